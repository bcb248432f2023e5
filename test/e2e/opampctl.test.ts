import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteConfigStatuses, RemoteConfigStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { createTestCa, pemDigest } from '../support/x509-fixtures.js';
import { runOpampctl } from '../support/opampctl.js';

const root = join(import.meta.dirname, '../..');

describe('opampctl against the local backend', () => {
  let backend: TestBackend;
  const scratch = mkdtempSync(join(tmpdir(), 'opampctl-'));

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }
  const agentFor = (service: string) =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) => fullReport(uid, seq, { agentDescription: description({ 'service.name': service }) }),
    });

  it('uploads a config, assigns it, and shows the rollout complete once the agent applied it', async () => {
    const file = join(scratch, 'collector.yaml');
    writeFileSync(file, 'exporters:\n  debug: {}\n');
    const agent = agentFor('checkout');
    await agent.sendFullReport();

    const uploaded = JSON.parse(await ctl('config', 'upload', 'checkout', file, '--json'));
    await ctl('assign', 'checkout', '--config', 'checkout', '--selector', 'service.name=checkout');
    const offer = await agent.heartbeat();
    await agent.send({
      capabilities: COLLECTOR_CAPS,
      remoteConfigStatus: create(RemoteConfigStatusSchema, {
        lastRemoteConfigHash: offer.reply!.remoteConfig!.configHash,
        status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED,
      }),
    });
    const rollout = await ctl('rollout', 'checkout');
    const rolloutJson = JSON.parse(await ctl('rollout', 'checkout', '--json'));
    const agents = await ctl('agents', '--selector', 'service.name=checkout');
    const shown = await ctl('agent', agent.uidText);

    expect(uploaded).toMatchObject({ name: 'checkout', status: 'recorded', files: ['collector.yaml'] });
    expect(Buffer.from(offer.reply!.remoteConfig!.configHash).toString('hex')).toBe(uploaded.hash);
    expect(rollout).toContain('matched 1  applied 1  applying 0  failed 0  pending 0  not-accepted 0  (complete)');
    expect(rolloutJson).toMatchObject({ config: 'checkout', matched: 1, applied: 1 });
    expect(agents).toContain(agent.uidText);
    expect(agents.split('\n')[0]).toMatch(/^INSTANCE UID\s+LIVENESS/);
    expect(shown).toContain('config          checkout (via checkout): applied');
  });

  it('shows a failed rollout with the agent error, and unassigns', async () => {
    const file = join(scratch, 'bad.yaml');
    writeFileSync(file, 'receivers: [\n');
    const agent = agentFor('payments');
    await agent.sendFullReport();

    await ctl('config', 'upload', 'payments', file);
    await ctl('assign', 'payments', '--config', 'payments', '--agent', agent.uidText);
    const offer = await agent.heartbeat();
    await agent.send({
      capabilities: COLLECTOR_CAPS,
      remoteConfigStatus: create(RemoteConfigStatusSchema, {
        lastRemoteConfigHash: offer.reply!.remoteConfig!.configHash,
        status: RemoteConfigStatuses.RemoteConfigStatuses_FAILED,
        errorMessage: 'cannot unmarshal the configuration',
      }),
    });
    const rollout = await ctl('rollout', 'payments');
    await ctl('unassign', 'payments');
    const assignments = JSON.parse(await ctl('assignments', '--json'));

    expect(rollout).toContain('failed 1');
    expect(rollout).toContain('cannot unmarshal the configuration');
    expect(assignments.assignments.map((a: { name: string }) => a.name)).not.toContain('payments');
  });

  it('uploads a settings document, assigns it with --settings, and lists where it applies', async () => {
    const file = join(scratch, 'prod-settings.json');
    writeFileSync(file, JSON.stringify({ opamp: { heartbeat: { idleSeconds: 90 } }, ownLogs: { endpoint: 'https://logs.example/v1/logs' } }));

    const uploaded = JSON.parse(await ctl('settings', 'upload', 'prod', file, '--json'));
    await ctl('assign', 'prod-settings', '--settings', 'prod', '--selector', 'deployment.environment=prod');
    const listed = await ctl('settings');
    const shown = await ctl('settings', 'show', 'prod');
    const assignments = await ctl('assignments');
    const assignment = JSON.parse(await ctl('assignments', '--json')).assignments.find((a: { name: string }) => a.name === 'prod-settings');

    expect(uploaded).toMatchObject({ name: 'prod', status: 'recorded', settings: { ownLogs: { endpoint: 'https://logs.example/v1/logs' } } });
    expect(listed.split('\n')[0]).toMatch(/^NAME\s+IN FORCE\s+APPLIES TO/);
    expect(listed).toMatch(/prod\s+yes\s+assignment prod-settings/);
    expect(shown).toContain('prod  in force, applies to assignment prod-settings');
    expect(shown).toContain('"idleSeconds": 90');
    expect(assignments.split('\n')[0]).toMatch(/SETTINGS/);
    expect(assignment).toMatchObject({ settings: 'prod', selector: 'deployment.environment=prod', config: null });
  });

  it('refuses a settings document the API rejects, with its reason, and deletes one', async () => {
    const bad = join(scratch, 'bad-settings.json');
    writeFileSync(bad, JSON.stringify({ opamp: { headers: { Authorization: 'Bearer x' } } }));
    const good = join(scratch, 'short-lived.json');
    writeFileSync(good, JSON.stringify({ ownTraces: { endpoint: 'https://traces.example/v1/traces' } }));

    const refused = await ctl('settings', 'upload', 'bad', bad).then(
      () => undefined,
      (error: Error) => error.message,
    );
    await ctl('settings', 'upload', 'short-lived', good);
    const removed = await ctl('settings', 'delete', 'short-lived');
    const remaining = JSON.parse(await ctl('settings', '--json')).settings.map((d: { name: string }) => d.name);

    expect(refused).toMatch(/^400 opamp\.headers: .*Authorization/);
    expect(removed).toBe('settings short-lived removed');
    expect(remaining).not.toContain('short-lived');
    expect(remaining).not.toContain('bad');
  });

  it('uploads a certificate, lists it with the settings that use it, and deletes it', async () => {
    const material = await createTestCa({ isCa: false, subject: 'CN=log-shipper, O=Example' });
    const root = await createTestCa();
    const cert = join(scratch, 'cert.pem');
    const key = join(scratch, 'key.pem');
    const ca = join(scratch, 'ca.pem');
    writeFileSync(cert, material.certPem);
    writeFileSync(key, material.keyPem);
    writeFileSync(ca, root.certPem);
    const settings = join(scratch, 'mtls.json');
    writeFileSync(settings, JSON.stringify({ ownLogs: { endpoint: 'https://logs.example/v1/logs', certificate: 'log-shipper' } }));

    const uploaded = JSON.parse(await ctl('certificate', 'upload', 'log-shipper', '--cert', cert, '--key', key, '--ca', ca, '--json'));
    await ctl('settings', 'upload', 'mtls', settings);
    const listed = await ctl('certificates');
    const listedJson = JSON.parse(await ctl('certificates', '--json')).certificates;
    const mismatch = await ctl('certificate', 'upload', 'wrong', '--cert', ca, '--key', key).then(
      () => undefined,
      (error: Error) => error.message,
    );
    const removed = await ctl('certificate', 'delete', 'log-shipper');
    const afterDelete = JSON.parse(await ctl('certificates', '--json')).certificates;
    const settingsAfter = JSON.parse(await ctl('settings', 'show', 'mtls', '--json'));

    expect(uploaded).toMatchObject({ name: 'log-shipper', fingerprint: pemDigest(material.certPem), subject: 'CN=log-shipper, O=Example', status: 'recorded' });
    expect(listed.split('\n')[0]).toMatch(/^NAME\s+SUBJECT\s+NOT AFTER\s+FINGERPRINT\s+FILES\s+SETTINGS\s+ERROR/);
    expect(listed).toContain('cert.pem,key.pem,ca.pem');
    expect(listedJson).toEqual([expect.objectContaining({ name: 'log-shipper', settings: ['mtls'], error: null, notAfter: uploaded.notAfter })]);
    expect(mismatch).toMatch(/^400 .*does not match/);
    expect(removed).toBe('certificate log-shipper removed');
    expect(afterDelete).toEqual([]);
    expect(settingsAfter.problems).toEqual(['certificate log-shipper: no folder certificates/log-shipper/ in the bucket']);
  });

  it('creates a deliverable token, shows where it is used, and refuses to revoke it while settings hand it out', async () => {
    const settings = join(scratch, 'rotation.json');
    writeFileSync(settings, JSON.stringify({ opamp: { token: 'fleet-next' } }));

    const created = JSON.parse(await ctl('token', 'create', 'fleet-next', '--deliverable', '--json'));
    const plain = await ctl('token', 'create', 'fleet-plain');
    await ctl('settings', 'upload', 'rotation', settings);
    const tokens = await ctl('tokens');
    const agents = await ctl('token', 'agents', 'fleet-next');
    const refused = await ctl('token', 'revoke', 'fleet-next').then(
      () => undefined,
      (error: Error) => error.message,
    );
    const stillThere = JSON.parse(await ctl('tokens', '--json')).tokens.map((t: { name: string }) => t.name);
    const forced = await ctl('token', 'revoke', 'fleet-next', '--force');
    const afterForce = JSON.parse(await ctl('tokens', '--json')).tokens.map((t: { name: string }) => t.name);

    expect(created).toMatchObject({ name: 'fleet-next', deliverable: true, token: expect.stringMatching(/^opamp_/) });
    expect(plain).not.toContain('deliverable');
    expect(tokens.split('\n')[0]).toMatch(/^NAME\s+CREATED\s+FINGERPRINT\s+DELIVERABLE\s+AGENTS\s+LIVE\s+SETTINGS/);
    expect(tokens).toMatch(/fleet-next .* yes\s+0\s+0\s+rotation/);
    expect(tokens).toMatch(/fleet-plain .* no\s+0\s+0\s+-/);
    expect(agents).toBe('no agent last authenticated with token fleet-next');
    expect(refused).toMatch(/^409 token fleet-next is in use: .*settings rotation/);
    expect(refused).toContain('opampctl token revoke fleet-next --force');
    expect(stillThere).toContain('fleet-next');
    expect(forced).toBe('token fleet-next revoked');
    expect(afterForce).not.toContain('fleet-next');
  });

  it('exits non-zero with one line on stderr when something is wrong', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, [join(root, 'bin/opampctl.mjs'), 'agent', '00000000-0000-7000-8000-000000000000', '--api', backend.url], {
      cwd: root,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string; stdout: string }) => error,
    );

    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim().split('\n')).toEqual(['opampctl: 404 no agent with instance uid 00000000-0000-7000-8000-000000000000']);
  });
});
