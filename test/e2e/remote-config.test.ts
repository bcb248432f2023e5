import { create } from '@bufbuild/protobuf';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemoteConfigStatuses, RemoteConfigStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { bucketClient, deleteObject, uploadObject } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

const BUCKET = 'opamp-local';
const NO_REMOTE_CONFIG = caps('AgentCapabilities_ReportsStatus', 'AgentCapabilities_ReportsEffectiveConfig', 'AgentCapabilities_ReportsHealth');

describe('remote configuration through the bucket', () => {
  let backend: TestBackend;
  let s3: S3Client;

  // A fresh backend (empty table and bucket) for every test.
  beforeEach(async () => {
    // Revalidate the fleet cache on every poll, so tests need not wait.
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    s3 = bucketClient(backend.s3Endpoint);
  });
  afterEach(async () => {
    await backend.close();
  });

  async function upload(key: string, body: string, contentType?: string): Promise<void> {
    await uploadObject(s3, BUCKET, key, body, contentType);
    await backend.ingested();
  }
  async function remove(key: string): Promise<void> {
    await deleteObject(s3, BUCKET, key);
    await backend.ingested();
  }
  async function api<T = any>(path: string): Promise<T> {
    const res = await fetch(`${backend.url}${path}`);
    expect(res.status, `${path} answered ${res.status}`).toBe(200);
    return (await res.json()) as T;
  }
  function collector(service: string, capabilities = COLLECTOR_CAPS) {
    return new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) => fullReport(uid, seq, { capabilities, agentDescription: description({ 'service.name': service }, { 'deployment.environment': 'prod' }) }),
    });
  }
  async function reportStatus(agent: ScriptedAgent, reply: ServerToAgent | undefined, status: RemoteConfigStatuses, errorMessage = '') {
    return agent.send({
      capabilities: COLLECTOR_CAPS,
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: reply!.remoteConfig!.configHash, status, errorMessage }),
    });
  }
  const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

  it('delivers an uploaded default configuration on the next poll, and the API shows it applied', async () => {
    const agent = collector('anything');
    await agent.sendFullReport();

    await upload('configs/default/collector.yaml', 'receivers:\n  otlp: {}\n');
    await upload('configs/default/extra.json', '{"a":1}');
    const offer = await agent.heartbeat();
    const applying = await reportStatus(agent, offer.reply, RemoteConfigStatuses.RemoteConfigStatuses_APPLYING);
    const applied = await reportStatus(agent, offer.reply, RemoteConfigStatuses.RemoteConfigStatuses_APPLIED);
    const later = await agent.heartbeat();

    const files = offer.reply?.remoteConfig?.config?.configMap ?? {};
    expect(Object.keys(files).sort()).toEqual(['collector.yaml', 'extra.json']);
    expect(text(files['collector.yaml']?.body)).toBe('receivers:\n  otlp: {}\n');
    expect(files['collector.yaml']?.contentType).toBe('text/yaml');
    expect(files['extra.json']?.contentType).toBe('application/json');
    expect(offer.reply?.remoteConfig?.configHash).toHaveLength(32);
    for (const r of [applying, applied, later]) expect(r.reply?.remoteConfig).toBeUndefined();

    const config = await api('/api/v1/configs/default');
    expect(config.hash).toBe(Buffer.from(offer.reply!.remoteConfig!.configHash).toString('hex'));
    const rollout = await api('/api/v1/configs/default/rollout');
    expect(rollout).toMatchObject({ matched: 1, applied: 1, applying: 0, failed: 0, pending: 0 });
    const view = await api(`/api/v1/agents/${agent.uidText}`);
    expect(view.remoteConfigStatus.status).toBe('APPLIED');
    expect(view.remoteConfig).toMatchObject({ desired: { config: 'default', via: 'default' }, state: 'applied' });
  });

  it('gives the same hash whatever the upload order', async () => {
    await upload('configs/default/extra.json', '{"a":1}');
    await upload('configs/default/collector.yaml', 'receivers: {}\n');
    const first = (await api('/api/v1/configs/default')).hash;
    await remove('configs/default/extra.json');
    await remove('configs/default/collector.yaml');
    await upload('configs/default/collector.yaml', 'receivers: {}\n');
    await upload('configs/default/extra.json', '{"a":1}');
    const second = (await api('/api/v1/configs/default')).hash;

    expect(second).toBe(first);
  });

  it('does not offer a configuration again after the agent reported it FAILED, and shows the error', async () => {
    const agent = collector('anything');
    await upload('configs/default/collector.yaml', 'receivers: [broken\n');
    const offer = await agent.sendFullReport();

    await reportStatus(agent, offer.reply, RemoteConfigStatuses.RemoteConfigStatuses_FAILED, 'yaml: line 1: did not find expected node content');
    backend.clock.advance(60 * 60_000);
    const later = [await agent.heartbeat(), await agent.heartbeat()];

    expect(offer.reply?.remoteConfig).toBeDefined();
    for (const r of later) expect(r.reply?.remoteConfig).toBeUndefined();
    const rollout = await api('/api/v1/configs/default/rollout');
    expect(rollout).toMatchObject({ matched: 1, failed: 1, applied: 0 });
    expect(rollout.agents[0]).toMatchObject({ instanceUid: agent.uidText, state: 'failed', errorMessage: 'yaml: line 1: did not find expected node content' });
  });

  it('does not loop on an agent that rolled back to its previous configuration', async () => {
    const agent = collector('anything');
    await upload('configs/default/collector.yaml', 'v1\n');
    const first = await agent.sendFullReport();
    await reportStatus(agent, first.reply, RemoteConfigStatuses.RemoteConfigStatuses_APPLIED);
    await upload('configs/default/collector.yaml', 'v2\n');
    const second = await agent.heartbeat();

    await reportStatus(agent, second.reply, RemoteConfigStatuses.RemoteConfigStatuses_APPLYING);
    await reportStatus(agent, first.reply, RemoteConfigStatuses.RemoteConfigStatuses_APPLIED); // back on v1
    backend.clock.advance(60 * 60_000);
    const later = [await agent.heartbeat(), await agent.heartbeat()];

    expect(text(second.reply?.remoteConfig?.config?.configMap['collector.yaml']?.body)).toBe('v2\n');
    for (const r of later) expect(r.reply?.remoteConfig).toBeUndefined();
    const view = await api(`/api/v1/agents/${agent.uidText}`);
    expect(view.remoteConfig.state).toBe('rolled-back');
    expect(view.remoteConfig.offer.rollbackMessage).toBeTruthy();
    expect((await api('/api/v1/configs/default/rollout')).failed).toBe(1);
  });

  it('targets by selector over the default, and keeps the previous assignment when a new upload is malformed', async () => {
    await upload('configs/default/collector.yaml', 'default\n');
    await upload('configs/checkout/collector.yaml', 'checkout\n');
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout,deployment.environment=prod' }));
    const checkout = collector('checkout');
    const other = collector('payments');

    const a = await checkout.sendFullReport();
    const b = await other.sendFullReport();
    await upload('assignments/checkout.json', '{"config": "checkout", "selector": }');
    const assignment = await api('/api/v1/assignments/checkout');
    const newcomer = collector('checkout');
    const c = await newcomer.sendFullReport();

    expect(text(a.reply?.remoteConfig?.config?.configMap['collector.yaml']?.body)).toBe('checkout\n');
    expect(text(b.reply?.remoteConfig?.config?.configMap['collector.yaml']?.body)).toBe('default\n');
    expect(assignment).toMatchObject({ config: 'checkout', selector: 'service.name=checkout,deployment.environment=prod', inForce: true });
    expect(assignment.error).toContain('assignments/checkout.json: not valid JSON');
    expect(text(c.reply?.remoteConfig?.config?.configMap['collector.yaml']?.body)).toBe('checkout\n');
  });

  it('stops offering a configuration removed from the bucket', async () => {
    await upload('configs/default/collector.yaml', 'soon gone\n');
    const early = collector('anything');
    const offered = await early.sendFullReport();
    await remove('configs/default/collector.yaml');

    const late = collector('anything');
    const notOffered = await late.sendFullReport();
    backend.clock.advance(60 * 60_000);
    const resend = await early.heartbeat();

    expect(offered.reply?.remoteConfig).toBeDefined();
    expect(notOffered.reply?.remoteConfig).toBeUndefined();
    expect(resend.reply?.remoteConfig).toBeUndefined();
    expect((await fetch(`${backend.url}/api/v1/configs/default`)).status).toBe(404);
  });

  it('never offers configuration to an agent that does not accept it', async () => {
    await upload('configs/default/collector.yaml', 'x\n');
    const reporter = collector('anything', NO_REMOTE_CONFIG);

    const reply = await reporter.sendFullReport();

    expect(reply.reply?.remoteConfig).toBeUndefined();
    // A configuration targets it, but it cannot take one: shown as such, never as pending.
    expect((await api(`/api/v1/agents/${reporter.uidText}`)).remoteConfig.state).toBe('not-accepted');
  });
});
