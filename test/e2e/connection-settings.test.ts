import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/opampctl.js';
import {
  CertificateRequestSchema,
  ConnectionSettingsRequestSchema,
  ConnectionSettingsStatuses,
  ConnectionSettingsStatusSchema,
  OpAMPConnectionSettingsRequestSchema,
  RemoteConfigStatuses,
  RemoteConfigStatusSchema,
  ServerCapabilities,
  ServerErrorResponseType,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { bucketClient, uploadObject } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { createCsrPem, createTestCa, verifyCertificateChain } from '../support/x509-fixtures.js';

const BUCKET = 'opamp-local';
const ACCEPTS_SETTINGS = caps('AgentCapabilities_AcceptsOpAMPConnectionSettings');
const REPORTS_SETTINGS = caps('AgentCapabilities_ReportsConnectionSettingsStatus');
/** A Collector under a supervisor that takes OpAMP connection settings and reports on them. */
const STEERABLE = COLLECTOR_CAPS | ACCEPTS_SETTINGS | REPORTS_SETTINGS;

describe('connection settings end to end', () => {
  let backend: TestBackend | undefined;
  let s3: S3Client;
  const scratch: string[] = [];

  async function start(env: Record<string, string> = {}): Promise<TestBackend> {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', ...env });
    s3 = bucketClient(backend.s3Endpoint);
    return backend;
  }
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function upload(key: string, body: string): Promise<void> {
    await uploadObject(s3, BUCKET, key, body);
    await backend!.ingested();
  }
  async function api<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const res = await fetch(`${backend!.url}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  function agent(capabilities: bigint, headers?: Record<string, string>): ScriptedAgent {
    return new ScriptedAgent(backend!.opampUrl, {
      beforeSend: () => backend!.clock.advance(30_000),
      ...(headers ? { headers } : {}),
      report: (uid, seq) => fullReport(uid, seq, { capabilities, agentDescription: description({ 'service.name': 'checkout' }) }),
    });
  }
  /** The status an agent sends after taking (or failing) a settings offer, as a supervisor would. */
  function settingsStatus(reply: ServerToAgent | undefined, status = ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED) {
    return create(ConnectionSettingsStatusSchema, { lastConnectionSettingsHash: reply!.connectionSettings!.hash, status });
  }
  const interval = (reply: ServerToAgent | undefined) => reply?.connectionSettings?.opamp?.heartbeatIntervalSeconds;

  it('steers the poll interval: idle, fast while a configuration is pending, idle again once it is applied', async () => {
    await start({ OPAMP_HEARTBEAT_IDLE_SECONDS: '300', OPAMP_HEARTBEAT_PENDING_SECONDS: '10' });
    const collector = agent(STEERABLE);

    const first = await collector.sendFullReport();
    const acked = await collector.send({ capabilities: STEERABLE, connectionSettingsStatus: settingsStatus(first.reply) });
    const quiet = await collector.heartbeat();
    await upload('configs/default/collector.yaml', 'receivers:\n  otlp: {}\n');
    const offered = await collector.heartbeat();
    const applied = await collector.send({
      capabilities: STEERABLE,
      remoteConfigStatus: create(RemoteConfigStatusSchema, {
        lastRemoteConfigHash: offered.reply!.remoteConfig!.configHash,
        status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED,
      }),
      connectionSettingsStatus: settingsStatus(offered.reply),
    });
    const settled = await collector.send({ capabilities: STEERABLE, connectionSettingsStatus: settingsStatus(applied.reply) });
    const after = await collector.heartbeat();

    // Idle interval first, with the server's own URL as the endpoint.
    expect(interval(first.reply)).toBe(300n);
    expect(first.reply?.connectionSettings?.opamp?.destinationEndpoint).toBe(backend!.opampUrl);
    expect(first.reply!.capabilities & BigInt(ServerCapabilities.ServerCapabilities_OffersConnectionSettings)).not.toBe(0n);
    expect(acked.reply?.connectionSettings).toBeUndefined();
    expect(quiet.reply?.connectionSettings).toBeUndefined();
    // A configuration to apply: it and the fast interval travel together.
    expect(offered.reply?.remoteConfig).toBeDefined();
    expect(interval(offered.reply)).toBe(10n);
    // Applied: back to idle, and once that is acknowledged, nothing more.
    expect(interval(applied.reply)).toBe(300n);
    expect(settled.reply?.connectionSettings).toBeUndefined();
    expect(after.reply?.connectionSettings).toBeUndefined();

    const view = (await api(`/api/v1/agents/${collector.uidText}`)).body;
    expect(view.heartbeatSeconds).toBe(300);
    expect(view.connectionSettings).toMatchObject({ state: 'applied', applied: { heartbeatSeconds: 300, assumed: false } });
  });

  it('offers own-telemetry destinations and other connections only to agents that take them', async () => {
    await start();
    await upload(
      'settings/default.json',
      JSON.stringify({
        ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': 'k1' } },
        ownTraces: { endpoint: 'https://otlp.example.com/v1/traces' },
        ownLogs: { endpoint: 'https://otlp.example.com/v1/logs' },
        otherConnections: { archive: { endpoint: 'archive.example.com:4317', otherSettings: { bucket: 'logs' } } },
      }),
    );
    const metricsOnly = agent(COLLECTOR_CAPS | caps('AgentCapabilities_ReportsOwnMetrics'));
    const nothing = agent(COLLECTOR_CAPS);
    const everything = agent(
      COLLECTOR_CAPS | caps('AgentCapabilities_ReportsOwnMetrics', 'AgentCapabilities_ReportsOwnTraces', 'AgentCapabilities_ReportsOwnLogs', 'AgentCapabilities_AcceptsOtherConnectionSettings'),
    );

    const [m, n, e] = [await metricsOnly.sendFullReport(), await nothing.sendFullReport(), await everything.sendFullReport()];
    const again = await metricsOnly.heartbeat();

    expect(m.reply?.connectionSettings?.ownMetrics?.destinationEndpoint).toBe('https://otlp.example.com/v1/metrics');
    expect(m.reply?.connectionSettings?.ownMetrics?.headers?.headers.map((h) => [h.key, h.value])).toEqual([['x-api-key', 'k1']]);
    expect(m.reply?.connectionSettings?.ownTraces).toBeUndefined();
    expect(m.reply?.connectionSettings?.ownLogs).toBeUndefined();
    expect(m.reply?.connectionSettings?.otherConnections).toEqual({});
    expect(m.reply?.connectionSettings?.opamp).toBeUndefined();
    expect(n.reply?.connectionSettings).toBeUndefined();
    expect(e.reply?.connectionSettings?.ownTraces?.destinationEndpoint).toBe('https://otlp.example.com/v1/traces');
    expect(e.reply?.connectionSettings?.ownLogs?.destinationEndpoint).toBe('https://otlp.example.com/v1/logs');
    expect(e.reply?.connectionSettings?.otherConnections.archive?.otherSettings).toEqual({ bucket: 'logs' });
    // Agents with different capabilities have different settings, hence different hashes.
    expect(Buffer.from(m.reply!.connectionSettings!.hash)).not.toEqual(Buffer.from(e.reply!.connectionSettings!.hash));
    // Sent once to an agent that does not report its settings status.
    expect(again.reply?.connectionSettings).toBeUndefined();
  });

  it('offers a client certificate from the bucket, private key included, and changes the hash when it changes', async () => {
    await start();
    const first = await createTestCa({ subject: 'CN=otel client one' });
    const second = await createTestCa({ subject: 'CN=otel client two' });
    await upload('certificates/otel-client/cert.pem', first.certPem);
    await upload('certificates/otel-client/key.pem', first.keyPem);
    await upload('settings/default.json', JSON.stringify({ ownLogs: { endpoint: 'https://otlp.example.com/v1/logs', certificate: 'otel-client' } }));
    const collector = agent(COLLECTOR_CAPS | REPORTS_SETTINGS | caps('AgentCapabilities_ReportsOwnLogs'));

    const offered = await collector.sendFullReport();
    const acked = await collector.send({ capabilities: COLLECTOR_CAPS | REPORTS_SETTINGS | caps('AgentCapabilities_ReportsOwnLogs'), connectionSettingsStatus: settingsStatus(offered.reply) });
    await upload('certificates/otel-client/cert.pem', second.certPem);
    await upload('certificates/otel-client/key.pem', second.keyPem);
    const renewed = await collector.heartbeat();

    const certificate = offered.reply?.connectionSettings?.ownLogs?.certificate;
    expect(new TextDecoder().decode(certificate?.cert)).toBe(first.certPem);
    expect(new TextDecoder().decode(certificate?.privateKey)).toBe(first.keyPem);
    expect(acked.reply?.connectionSettings).toBeUndefined();
    expect(new TextDecoder().decode(renewed.reply?.connectionSettings?.ownLogs?.certificate?.cert)).toBe(second.certPem);
    expect(Buffer.from(renewed.reply!.connectionSettings!.hash)).not.toEqual(Buffer.from(offered.reply!.connectionSettings!.hash));
  });

  it('rotates the agent token across the fleet: the new token is offered, the old one revoked once unused and then refused', async () => {
    await start({ OPAMP_AGENT_AUTH: 'token', OPAMP_HEARTBEAT_IDLE_SECONDS: '0' });
    const ctl = async (...args: string[]) => {
      const lines: string[] = [];
      await main([...args, '--api', backend!.url], (line) => lines.push(line));
      return lines.join('\n');
    };
    const { token: oldToken } = JSON.parse(await ctl('token', 'create', 'fleet-2026-11', '--json'));
    const created = await api('/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fleet-2026-12', deliverable: true }) });
    const newToken: string = created.body.token;
    const collector = agent(STEERABLE, { authorization: `Bearer ${oldToken}` });
    await collector.sendFullReport();
    const beforeRotation = (await api('/api/v1/tokens')).body.tokens;

    await upload('settings/default.json', JSON.stringify({ opamp: { token: 'fleet-2026-12' } }));
    const offer = await collector.heartbeat();
    const earlyRevoke = await api('/api/v1/tokens/fleet-2026-11', { method: 'DELETE' });
    // The supervisor reconnects with the offered settings and reports them applied.
    const offered = offer.reply?.connectionSettings?.opamp;
    collector.setHeaders(Object.fromEntries((offered?.headers?.headers ?? []).map((h) => [h.key.toLowerCase(), h.value])));
    const moved = await collector.send({ capabilities: STEERABLE, connectionSettingsStatus: settingsStatus(offer.reply) });
    const stillOnOld = (await api('/api/v1/tokens/fleet-2026-11/agents')).body.agents;
    const onNew = (await api('/api/v1/tokens/fleet-2026-12/agents')).body.agents;
    const revoked = await api('/api/v1/tokens/fleet-2026-11', { method: 'DELETE' });
    const revokeInUse = await api('/api/v1/tokens/fleet-2026-12', { method: 'DELETE' });
    const withNew = await collector.heartbeat();
    collector.setHeaders({ authorization: `Bearer ${oldToken}` });
    const withOld = await collector.heartbeat();

    expect(beforeRotation.find((t: any) => t.name === 'fleet-2026-11')).toMatchObject({ agents: 1, deliverable: false });
    expect(beforeRotation.find((t: any) => t.name === 'fleet-2026-12')).toMatchObject({ agents: 0, deliverable: true });
    expect(offered?.destinationEndpoint).toBe(backend!.opampUrl);
    expect(offered?.headers?.headers.map((h) => [h.key, h.value])).toEqual([['Authorization', `Bearer ${newToken}`]]);
    expect(earlyRevoke.status).toBe(409);
    expect(earlyRevoke.body.error.code).toBe('token-in-use');
    expect(moved.status).toBe(200);
    expect(stillOnOld).toEqual([]);
    expect(onNew).toEqual([collector.uidText]);
    expect(revoked.status).toBe(204);
    expect(revokeInUse.status).toBe(409);
    expect(withNew.status).toBe(200);
    expect(withOld.status).toBe(401);
    const view = (await api(`/api/v1/agents/${collector.uidText}`)).body;
    expect(view.token).toBe('fleet-2026-12');
    expect(JSON.stringify((await api('/api/v1/tokens')).body)).not.toContain(newToken);
  });

  it('shows why the opamp part is withheld, and offers it once the named token can be handed out', async () => {
    await start({ OPAMP_HEARTBEAT_IDLE_SECONDS: '0' });
    await upload('settings/default.json', JSON.stringify({ opamp: { token: 'fleet-next' } }));
    const collector = agent(STEERABLE);

    const withheld = await collector.sendFullReport();
    const before = (await api(`/api/v1/agents/${collector.uidText}`)).body.connectionSettings;
    const created = await api('/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fleet-next', deliverable: true }) });
    const offered = await collector.heartbeat();
    const after = (await api(`/api/v1/agents/${collector.uidText}`)).body.connectionSettings;

    expect(withheld.reply?.connectionSettings).toBeUndefined();
    expect(before.problems).toEqual(['opamp: token "fleet-next" does not exist or was not created deliverable']);
    expect(offered.reply?.connectionSettings?.opamp?.headers?.headers.map((h) => [h.key, h.value])).toEqual([['Authorization', `Bearer ${created.body.token}`]]);
    expect(after.problems).toEqual([]);
  });

  it('signs a CSR with the configured CA (a local file) and delivers a certificate that verifies against it', async () => {
    // Valid from before the backend's (manual) clock.
    const ca = await createTestCa({ subject: 'CN=Fleet CA, O=Example', notBefore: new Date(Date.UTC(2020, 0, 1)) });
    const caDir = mkdtempSync(join(tmpdir(), 'opamp-ca-'));
    scratch.push(caDir);
    writeFileSync(join(caDir, 'cert.pem'), ca.certPem);
    writeFileSync(join(caDir, 'key.pem'), ca.keyPem);
    await start({ OPAMP_CSR_CA: `file:${caDir}`, OPAMP_HEARTBEAT_IDLE_SECONDS: '0' });
    const collector = agent(STEERABLE);
    await collector.sendFullReport();
    const request = (csr: string) =>
      create(ConnectionSettingsRequestSchema, {
        opamp: create(OpAMPConnectionSettingsRequestSchema, { certificateRequest: create(CertificateRequestSchema, { csr: new TextEncoder().encode(csr) }) }),
      });

    const impostor = await collector.send({ capabilities: STEERABLE, connectionSettingsRequest: request(await createCsrPem({ subject: 'CN=0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6' })) });
    const viewAfterImpostor = (await api(`/api/v1/agents/${collector.uidText}`)).body;
    const signed = await collector.send({ capabilities: STEERABLE, connectionSettingsRequest: request(await createCsrPem({ subject: `CN=${collector.uidText}, O=Example` })) });

    expect(impostor.status).toBe(200);
    expect(impostor.reply?.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expect(impostor.reply?.errorResponse?.errorMessage).toContain('0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6');
    expect(viewAfterImpostor.connectionSettings.issuedCertificate).toBeNull();
    expect(signed.reply?.errorResponse).toBeUndefined();
    expect(signed.reply!.capabilities & BigInt(ServerCapabilities.ServerCapabilities_AcceptsConnectionSettingsRequest)).not.toBe(0n);
    const certificate = signed.reply?.connectionSettings?.opamp?.certificate;
    expect(certificate?.privateKey).toHaveLength(0);
    expect(new TextDecoder().decode(certificate?.caCert)).toBe(ca.certPem);
    const verified = await verifyCertificateChain(new TextDecoder().decode(certificate?.cert), ca.certPem);
    expect(verified.subject).toContain(collector.uidText);
    expect(verified.subjectAltNames).toContainEqual({ type: 'url', value: `urn:uuid:${collector.uidText}` });
    expect(signed.reply?.connectionSettings?.opamp?.destinationEndpoint).toBe(backend!.opampUrl);
    const view = (await api(`/api/v1/agents/${collector.uidText}`)).body;
    expect(view.connectionSettings.issuedCertificate.fingerprint).toBe(verified.fingerprint);
  });
});
