import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CertificateRequestSchema,
  ConnectionSettingsRequestSchema,
  ConnectionSettingsStatuses,
  ConnectionSettingsStatusSchema,
  OpAMPConnectionSettingsRequestSchema,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import type { Telemetry } from '../../functions/observability/telemetry.js';
import { ManualClock, startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { createCsrPem, createTestCa, verifyCertificateChain } from '../support/x509-fixtures.js';
import { runOpampctl } from '../support/opampctl.js';

const DAY = 24 * 60 * 60_000;
const CAPS = COLLECTOR_CAPS | caps('AgentCapabilities_AcceptsOpAMPConnectionSettings', 'AgentCapabilities_ReportsConnectionSettingsStatus', 'AgentCapabilities_ReportsOwnMetrics');

describe('certificate lifecycle', () => {
  let backend: TestBackend;
  const scratch: string[] = [];
  afterEach(async () => {
    await backend.close();
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'opamp-certs-'));
    scratch.push(d);
    return d;
  }
  async function ctl(...args: string[]): Promise<any> {
    return JSON.parse(await runOpampctl(backend.url, [...args, '--json']));
  }
  const agent = () =>
    new ScriptedAgent(backend.opampUrl, {
      report: (uid, seq) => fullReport(uid, seq, { capabilities: CAPS, agentDescription: description({ 'service.name': 'checkout' }) }),
    });
  const applied = (reply: ServerToAgent | undefined) =>
    create(ConnectionSettingsStatusSchema, { lastConnectionSettingsHash: reply!.connectionSettings!.hash, status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED });

  it('lists a certificate near expiry with the agents holding it, counts the alarm metric, and never offers it once expired', async () => {
    const counts = new Map<string, number>();
    const telemetry: Telemetry = { ...NO_TELEMETRY, count: (metric, value = 1) => counts.set(metric, (counts.get(metric) ?? 0) + value) };
    const clock = new ManualClock();
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_HEARTBEAT_IDLE_SECONDS: '0' }, clock, { telemetry });
    // A client certificate for the agents' own metrics that runs out in 10 days (the warning window is 14).
    const near = await createTestCa({ subject: 'CN=metrics client', isCa: false, notBefore: new Date(clock.now() - DAY), notAfter: new Date(clock.now() + 10 * DAY) });
    const files = dir();
    writeFileSync(join(files, 'cert.pem'), near.certPem);
    writeFileSync(join(files, 'key.pem'), near.keyPem);
    await ctl('certificate', 'upload', 'metrics-client', '--cert', join(files, 'cert.pem'), '--key', join(files, 'key.pem'));
    writeFileSync(join(files, 'settings.json'), JSON.stringify({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', certificate: 'metrics-client' } }));
    await ctl('settings', 'upload', 'default', join(files, 'settings.json'));
    await backend.ingested();
    const a = agent();

    const offered = await a.sendFullReport();
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(offered.reply) });
    const within30 = await ctl('certificates', 'expiring', '--within-days', '30');
    const within5 = await ctl('certificates', 'expiring', '--within-days', '5');
    const byDefault = await ctl('certificates', 'expiring');
    const metricBefore = counts.get('CertificatesExpiringSoon') ?? 0;
    clock.advance(11 * DAY);
    const afterExpiry = await a.heartbeat(CAPS);
    const view = (await fetch(`${backend.url}/api/v1/agents/${a.uidText}`).then((r) => r.json())) as { connectionSettings: { problems: string[] } };

    expect(offered.reply?.connectionSettings?.ownMetrics?.certificate?.cert).toBeDefined();
    expect(within30.certificates).toEqual([expect.objectContaining({ source: 'metrics-client', parts: ['ownMetrics'], holders: 1, agents: [a.uidText], expired: false, daysLeft: 10 })]);
    expect(within5.certificates).toEqual([]);
    expect(byDefault).toMatchObject({ withinDays: 14, certificates: [expect.objectContaining({ source: 'metrics-client' })] });
    expect(metricBefore).toBeGreaterThan(0);
    expect(afterExpiry.reply?.connectionSettings).toBeUndefined();
    expect(view.connectionSettings.problems).toEqual([expect.stringMatching(/^ownMetrics: certificate "metrics-client" expired at /)]);
  });

  it('refuses to remove a certificate live agents hold, shows who holds it, and lets it go once they left', async () => {
    const clock = new ManualClock();
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_HEARTBEAT_IDLE_SECONDS: '0' }, clock);
    const cert = await createTestCa({ subject: 'CN=metrics client', isCa: false, notBefore: new Date(clock.now() - DAY), notAfter: new Date(clock.now() + 90 * DAY) });
    const files = dir();
    writeFileSync(join(files, 'cert.pem'), cert.certPem);
    await ctl('certificate', 'upload', 'metrics-client', '--cert', join(files, 'cert.pem'));
    writeFileSync(join(files, 'settings.json'), JSON.stringify({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', certificate: 'metrics-client' } }));
    await ctl('settings', 'upload', 'default', join(files, 'settings.json'));
    await backend.ingested();
    const a = agent();
    await a.sendFullReport();

    const holders = await ctl('certificate', 'agents', 'metrics-client');
    const refused = await ctl('certificate', 'delete', 'metrics-client').then(
      () => 'removed',
      (error: Error) => error.message,
    );
    clock.advance(DAY);
    const later = await ctl('certificate', 'agents', 'metrics-client');
    const removed = await ctl('certificate', 'delete', 'metrics-client');

    expect(holders).toMatchObject({ agents: [a.uidText], liveAgents: [a.uidText], fingerprints: [expect.stringMatching(/^[0-9a-f]{64}$/)] });
    expect(refused).toMatch(/^409 certificate metrics-client is held by 1 live agent/);
    expect(later).toMatchObject({ agents: [a.uidText], liveAgents: [] });
    expect(removed).toMatchObject({ status: 'removed' });
  });

  it('renews a CSR-issued certificate for the same key before it expires, with no gap', async () => {
    const clock = new ManualClock();
    const ca = await createTestCa({ subject: 'CN=Fleet CA', notBefore: new Date(Date.UTC(2020, 0, 1)) });
    const caDir = dir();
    writeFileSync(join(caDir, 'cert.pem'), ca.certPem);
    writeFileSync(join(caDir, 'key.pem'), ca.keyPem);
    backend = await startTestBackend(
      { OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_HEARTBEAT_IDLE_SECONDS: '0', OPAMP_CSR_CA: `file:${caDir}`, OPAMP_CSR_VALIDITY_DAYS: '3', OPAMP_CSR_RENEW_AT: '0.5' },
      clock,
    );
    const a = agent();
    await a.sendFullReport();
    const csr = await createCsrPem({ subject: `CN=${a.uidText}` });
    const request = create(ConnectionSettingsRequestSchema, {
      opamp: create(OpAMPConnectionSettingsRequestSchema, { certificateRequest: create(CertificateRequestSchema, { csr: new TextEncoder().encode(csr) }) }),
    });

    const signed = await a.send({ capabilities: CAPS, connectionSettingsRequest: request });
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(signed.reply) });
    clock.advance(1.4 * DAY);
    const early = await a.heartbeat(CAPS);
    clock.advance(0.2 * DAY);
    const renewalAt = clock.now();
    const renewed = await a.heartbeat(CAPS);
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(renewed.reply) });
    const listed = await ctl('certificates', 'expiring', '--within-days', '30');

    const first = await verifyCertificateChain(new TextDecoder().decode(signed.reply!.connectionSettings!.opamp!.certificate!.cert), ca.certPem);
    const second = await verifyCertificateChain(new TextDecoder().decode(renewed.reply!.connectionSettings!.opamp!.certificate!.cert), ca.certPem);
    expect(early.reply?.connectionSettings).toBeUndefined();
    expect(second.fingerprint).not.toBe(first.fingerprint);
    // The same key, valid now, while the first is still valid: no gap.
    expect(second.publicKeySpkiHex).toBe(first.publicKeySpkiHex);
    expect(second.notBefore).toBeLessThanOrEqual(renewalAt);
    expect(first.notAfter).toBeGreaterThan(renewalAt);
    expect(second.notAfter).toBeGreaterThan(first.notAfter);
    expect(listed.certificates).toEqual([expect.objectContaining({ source: 'issued', fingerprint: second.fingerprint, agents: [a.uidText] })]);
  });
});
