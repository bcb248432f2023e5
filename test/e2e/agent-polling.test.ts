import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentToServerFlags, ServerCapabilities, ServerErrorResponseType, ServerToAgentFlags } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { description, fullReport, health, heartbeat, newUidBytes, SDK_CAPS } from '../support/messages.js';
import { hasFlag, ScriptedAgent } from '../support/scripted-agent.js';

const FULL_STATE = ServerToAgentFlags.ServerToAgentFlags_ReportFullState;

async function agentView(backend: TestBackend, uid: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${backend.url}/api/v1/agents/${uid}`);
  return { status: res.status, body: await res.json() };
}

describe('an agent polling the local backend', () => {
  let backend: TestBackend;
  /** Agents poll every 30 s on the backend's clock. */
  const polling = () => ({ beforeSend: () => backend.clock.advance(30_000) });

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_MAX_REQUEST_BYTES: String(64 * 1024) });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('is answered on its first full report and shown by the fleet API', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());

    const first = await agent.sendFullReport();

    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/x-protobuf');
    expect(first.reply?.instanceUid).toEqual(agent.uid);
    expect(first.reply!.capabilities & BigInt(ServerCapabilities.ServerCapabilities_AcceptsStatus)).not.toBe(0n);
    expect(hasFlag(first.reply, FULL_STATE)).toBe(false);
    const view = await agentView(backend, agent.uidText);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      instanceUid: agent.uidText,
      liveness: 'online',
      healthy: true,
      sequenceNum: '0',
      description: { identifyingAttributes: { 'service.name': 'io.opentelemetry.collector' } },
      effectiveConfig: { files: { '': { body: 'receivers: {}\n', encoding: 'utf8' } } },
      remoteConfigStatus: { status: 'UNSET' },
    });
    expect(view.body.capabilities).toContain('AcceptsRemoteConfig');
  });

  it('gets a small acknowledgement for each heartbeat and changes nothing', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());
    await agent.sendFullReport();
    const before = await agentView(backend, agent.uidText);

    const replies = [await agent.heartbeat(), await agent.heartbeat(), await agent.heartbeat()];

    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.reply?.instanceUid).toEqual(agent.uid);
      expect(r.reply?.flags).toBe(0n);
      expect(r.rawBody.byteLength).toBeLessThanOrEqual(24);
    }
    const after = await agentView(backend, agent.uidText);
    // The agent item is not written (its sequence number stays); last-seen moves on through presence batches.
    expect(Date.parse(after.body.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(before.body.lastSeenAt));
    expect(after.body.sequenceNum).toBe('0');
  });

  it('gzips requests it is sent and accepts gzip replies', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      gzipRequests: true,
      acceptGzip: true,
    });

    const first = await agent.sendFullReport();
    const hb = await agent.heartbeat();

    expect(first.status).toBe(200);
    expect(first.reply?.instanceUid).toEqual(agent.uid);
    expect(hb.status).toBe(200);
    // A heartbeat reply is smaller than gzip's own framing, so it goes out as is.
    expect(hb.headers.get('content-encoding')).toBeNull();
    expect((await agentView(backend, agent.uidText)).body.healthy).toBe(true);
  });

  it('asks for the full state after a sequence gap, once, and takes the full report', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());
    await agent.sendFullReport();
    await agent.heartbeat();

    agent.nextSeq += 10n; // ten messages lost on the way
    const afterGap = await agent.heartbeat();
    const report = await agent.honourFlags(afterGap);
    const next = await agent.heartbeat();

    expect(hasFlag(afterGap.reply, FULL_STATE)).toBe(true);
    expect(report?.status).toBe(200);
    expect(hasFlag(report?.reply, FULL_STATE)).toBe(false);
    expect(hasFlag(next.reply, FULL_STATE)).toBe(false);
    expect((await agentView(backend, agent.uidText)).body.sequenceNum).toBe(String(agent.nextSeq - 2n));
  });

  it('asks an SDK client that only heartbeats for its full state once', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      report: (uid, seq) =>
        fullReport(uid, seq, {
          capabilities: SDK_CAPS,
          agentDescription: description({ 'service.name': 'checkout' }),
          health: undefined,
          effectiveConfig: undefined,
          remoteConfigStatus: undefined,
        }),
    });

    const first = await agent.heartbeat(SDK_CAPS);
    const report = await agent.honourFlags(first);
    const later = [await agent.heartbeat(SDK_CAPS), await agent.heartbeat(SDK_CAPS)];

    expect(hasFlag(first.reply, FULL_STATE)).toBe(true);
    expect(hasFlag(report?.reply, FULL_STATE)).toBe(false);
    for (const r of later) expect(hasFlag(r.reply, FULL_STATE)).toBe(false);
    expect((await agentView(backend, agent.uidText)).body.attributes).toEqual({ 'service.name': 'checkout' });
  });

  it('assigns a new instance uid on request, the same one on a retry, and moves the state to it', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());
    const temporary = agent.uidText;
    const message = fullReport(agent.uid, 0n, { flags: BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid) });
    const { toBinary } = await import('@bufbuild/protobuf');
    const { AgentToServerSchema } = await import('../../functions/gen/opamp/v1/opamp_pb.js');
    const body = toBinary(AgentToServerSchema, message);

    const answer = await agent.post(body);
    const retry = await agent.post(body); // the first answer was "lost"
    agent.uid = answer.reply!.agentIdentification!.newInstanceUid;
    agent.nextSeq = 1n;
    const next = await agent.heartbeat();

    expect(answer.reply?.instanceUid).toEqual(newUidView(temporary));
    expect(answer.reply?.agentIdentification?.newInstanceUid).toHaveLength(16);
    expect(retry.reply?.agentIdentification?.newInstanceUid).toEqual(answer.reply?.agentIdentification?.newInstanceUid);
    expect(next.status).toBe(200);
    expect(hasFlag(next.reply, FULL_STATE)).toBe(false);
    expect((await agentView(backend, agent.uidText)).body.description.identifyingAttributes['service.name']).toBe('io.opentelemetry.collector');
    expect((await agentView(backend, temporary)).status).toBe(404);
  });

  it('shows an agent that said goodbye as disconnected until it polls again', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());
    await agent.sendFullReport();

    await agent.send({ capabilities: fullReport(agent.uid, 0n).capabilities, agentDisconnect: {} });
    const whileGone = await agentView(backend, agent.uidText);
    await agent.heartbeat();
    const back = await agentView(backend, agent.uidText);

    expect(whileGone.body.liveness).toBe('disconnected');
    expect(whileGone.body.disconnectedAt).toBeDefined();
    expect(back.body.liveness).toBe('online');
  });

  it('keeps two agents polling at the same time apart', async () => {
    const a = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      report: (uid, seq) => fullReport(uid, seq, { agentDescription: description({ 'service.name': 'a' }), health: health(true) }),
    });
    const b = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      report: (uid, seq) => fullReport(uid, seq, { agentDescription: description({ 'service.name': 'b' }), health: health(false, {}, 'exporter down') }),
    });

    await Promise.all([a.sendFullReport(), b.sendFullReport()]);
    await Promise.all([a.heartbeat(), b.heartbeat(), a.heartbeat(), b.heartbeat()]);

    const [va, vb] = await Promise.all([agentView(backend, a.uidText), agentView(backend, b.uidText)]);
    expect(va.body.attributes['service.name']).toBe('a');
    expect(va.body.healthy).toBe(true);
    expect(vb.body.attributes['service.name']).toBe('b');
    expect(vb.body.health.lastError).toBe('exporter down');
    const list = (await (await fetch(`${backend.url}/api/v1/agents?selector=service.name%3Db`)).json()) as { agents: Array<{ instanceUid: string }> };
    expect(list.agents.map((x) => x.instanceUid)).toEqual([b.uidText]);
  });

  it('refuses an oversized body with 413 and stores nothing', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());
    const huge = fullReport(agent.uid, 0n, { effectiveConfig: { configMap: { configMap: { '': { body: new Uint8Array(100 * 1024) } } } } });
    const { toBinary } = await import('@bufbuild/protobuf');
    const { AgentToServerSchema } = await import('../../functions/gen/opamp/v1/opamp_pb.js');

    const plain = await agent.post(toBinary(AgentToServerSchema, huge));
    // 100 KB of zeros gzip to almost nothing: the limit applies after decompression.
    const zipped = await agent.post(new Uint8Array(gzipSync(toBinary(AgentToServerSchema, huge))), { 'content-encoding': 'gzip' });

    expect(plain.status).toBe(413);
    expect(zipped.status).toBe(413);
    expect((await agentView(backend, agent.uidText)).status).toBe(404);
  });

  it('answers a malformed body with 400 BadRequest for the uid in the header and stores nothing', async () => {
    const agent = new ScriptedAgent(backend.opampUrl, polling());

    const result = await agent.post(new Uint8Array([0x0a, 0xff, 0xff, 0xff]));

    expect(result.status).toBe(400);
    expect(result.reply?.instanceUid).toEqual(agent.uid);
    expect(result.reply?.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expect(result.reply?.capabilities).toBe(0n);
    expect((await agentView(backend, agent.uidText)).status).toBe(404);
  });

  it('rejects other content types with 415', async () => {
    const res = await fetch(backend.opampUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(415);
  });

  it('keeps serving when an unknown uid heartbeats with only the required fields', async () => {
    const uid = newUidBytes();
    const agent = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      uid,
    });
    const { toBinary } = await import('@bufbuild/protobuf');
    const { AgentToServerSchema } = await import('../../functions/gen/opamp/v1/opamp_pb.js');

    const res = await agent.post(toBinary(AgentToServerSchema, heartbeat(uid, 41n)));

    expect(res.status).toBe(200);
    expect(hasFlag(res.reply, FULL_STATE)).toBe(true);
  });
});

function newUidView(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replaceAll('-', ''), 'hex'));
}

describe('reply compression', () => {
  let backend: TestBackend;
  const polling = () => ({ beforeSend: () => backend.clock.advance(30_000) });

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_GZIP_MIN_BYTES: '0' });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('gzips replies when the agent accepts gzip', async () => {
    const zipping = new ScriptedAgent(backend.opampUrl, {
      ...polling(),
      acceptGzip: true,
    });
    const plain = new ScriptedAgent(backend.opampUrl, polling());

    const zipped = await zipping.sendFullReport();
    const unzipped = await plain.sendFullReport();

    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.reply?.instanceUid).toEqual(zipping.uid);
    expect(unzipped.headers.get('content-encoding')).toBeNull();
  });
});
