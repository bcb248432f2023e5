import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/opampctl.js';
import { RemoteConfigStatuses, RemoteConfigStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

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
    const lines: string[] = [];
    await main([...args, '--api', backend.url], (line) => lines.push(line));
    return lines.join('\n');
  }
  const agentFor = (service: string) => new ScriptedAgent(backend.opampUrl, {
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
    expect(rollout).toContain('matched 1  applied 1  applying 0  failed 0  pending 0  (complete)');
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

  it('exits non-zero with one line on stderr when something is wrong', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, [join(root, 'bin/opampctl.mjs'), 'agent', '00000000-0000-7000-8000-000000000000', '--api', backend.url], {
      cwd: root,
    }).then(() => undefined, (error: { code: number; stderr: string; stdout: string }) => error);

    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim().split('\n')).toEqual(['opampctl: 404 no agent with instance uid 00000000-0000-7000-8000-000000000000']);
  });
});
