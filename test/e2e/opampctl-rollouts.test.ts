import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { pollRound, SimulatedCollector, UNSTEERED } from '../support/simulated-fleet.js';
import { runOpampctl } from '../support/opampctl.js';

describe('opampctl and staged rollouts', () => {
  let backend: TestBackend;
  let fleet: SimulatedCollector[];

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_EXPECTED_POLL_INTERVAL_SECONDS: '3600', ...UNSTEERED });
    fleet = Array.from({ length: 10 }, () => new SimulatedCollector(backend.opampUrl, { 'service.name': 'checkout' }, undefined, () => backend.clock.advance(1_000)));
    for (const collector of fleet) await collector.agent.sendFullReport();
  });
  afterAll(async () => {
    await backend.close();
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }
  async function ctlFails(...args: string[]): Promise<string> {
    return ctl(...args).then(
      (out) => {
        throw new Error(`expected a failure, got ${out}`);
      },
      (error: Error) => error.message,
    );
  }
  async function uploadConfig(text: string): Promise<void> {
    await fetch(`${backend.url}/api/v1/configs/checkout`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files: { 'collector.yaml': { contentBase64: Buffer.from(text).toString('base64') } } }),
    });
    await backend.ingested();
  }

  it('assigns with a rollout policy, shows the rollout, and pauses, resumes, promotes and aborts it', async () => {
    await uploadConfig('receivers: {v: 1}\n');
    const assigned = await ctl(
      'assign',
      'checkout',
      '--config',
      'checkout',
      '--selector',
      'service.name=checkout',
      '--rollout',
      '20,50,100',
      '--bake',
      '120',
      '--max-failed',
      '1',
      '--on-failure',
      'rollback',
    );
    expect(assigned).toContain('assignment checkout');
    const listed = JSON.parse(await ctl('assignments', '--json')).assignments[0];
    expect(listed.rollout).toEqual({ steps: [20, 50, 100], bakeSeconds: 120, maxFailed: 1, onFailure: 'rollback' });
    await backend.ingested();

    const shown = await ctl('rollouts', 'show', 'checkout');
    expect(shown).toContain('rollout checkout.config.1: running, step 1 of 3');
    expect(shown).toContain('targeted 10  admitted 2');
    expect(await ctl('rollouts')).toMatch(/checkout\s+config\s+running\s+1\/3/);

    expect(await ctl('rollouts', 'pause', 'checkout')).toBe('rollout checkout.config.1 is paused');
    expect(await ctlFails('rollouts', 'pause', 'checkout')).toContain('only a running rollout can be paused');
    expect(await ctl('rollouts', 'resume', 'checkout')).toBe('rollout checkout.config.1 is running');
    expect(await ctl('rollouts', 'promote', 'checkout')).toBe('rollout checkout.config.1 is completed');
    await pollRound(fleet);
    expect(fleet.every((c) => c.running?.text.includes('v: 1'))).toBe(true);

    await uploadConfig('receivers: {v: 2}\n');
    expect(await ctl('rollouts', 'abort', 'checkout')).toBe('rollout checkout.config.2 is rolled-back');
    const timeline = JSON.parse(await ctl('rollouts', 'show', 'checkout', '--json')).timeline.map((e: { event: string; by: string }) => `${e.event}/${e.by}`);
    expect(timeline).toEqual(['created/rollout-engine', 'step-started/rollout-engine', 'aborted/local']);
    expect(await ctlFails('rollouts', 'show', 'checkout', '--packages')).toContain('no rollout of the package set of assignment checkout');
  });

  it('refuses a bad policy with the rule it breaks, and rollout options without steps', async () => {
    expect(await ctlFails('assign', 'bad', '--config', 'checkout', '--selector', 'a=b', '--rollout', '50,10')).toContain('each step must reach more agents');
    expect(await ctlFails('assign', 'bad', '--config', 'checkout', '--selector', 'a=b', '--bake', '10')).toContain('need --rollout');
    expect(await ctlFails('assign', 'bad', '--config', 'checkout', '--selector', 'a=b', '--rollout', '10', '--on-failure', 'explode')).toContain('onFailure');
  });

  it('sets the fleet default policy on the default assignment alone, and opts an assignment out', async () => {
    await ctl('assign', 'default', '--rollout', '10,100', '--bake', '60');
    const defaults = JSON.parse(await ctl('assignments', '--json')).assignments.find((a: { name: string }) => a.name === 'default');
    expect(defaults).toMatchObject({ config: null, rollout: { steps: [10, 100], bakeSeconds: 60 } });
    await ctl('assign', 'fast', '--config', 'checkout', '--selector', 'service.name=fast', '--no-rollout');
    expect(JSON.parse(await ctl('assignments', '--json')).assignments.find((a: { name: string }) => a.name === 'fast').rollout).toBe(false);
  });
});
