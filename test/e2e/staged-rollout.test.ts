import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketClient, uploadObject } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { pollRound, SimulatedCollector, UNSTEERED } from '../support/simulated-fleet.js';

const BUCKET = 'opamp-local';
const FLEET_SIZE = 20;
const BAKE_SECONDS = 60;
const POLICY = { steps: [10, 50, 100], bakeSeconds: BAKE_SECONDS, maxFailed: 0, onFailure: 'pause' };

describe('staged, health-gated rollouts', () => {
  let backend: TestBackend;
  let s3: S3Client;
  let fleet: SimulatedCollector[];

  beforeEach(async () => {
    // Nobody goes silent in these tests unless a test says so; the fleet cache revalidates on every poll.
    // Time passes a second per message, so agents poll about every 20 to 60 s.
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_EXPECTED_POLL_INTERVAL_SECONDS: '3600', ...UNSTEERED });
    s3 = bucketClient(backend.s3Endpoint);
    fleet = Array.from(
      { length: FLEET_SIZE },
      () =>
        new SimulatedCollector(
          backend.opampUrl,
          { 'service.name': 'checkout' },
          (text) => (text.includes('broken') ? { status: 'failed', message: 'unknown exporter "broken"' } : { status: 'applied' }),
          () => backend.clock.advance(1_000),
        ),
    );
    for (const collector of fleet) await collector.agent.sendFullReport();
  });
  afterEach(async () => {
    await backend.close();
  });

  async function upload(key: string, body: string): Promise<void> {
    await uploadObject(s3, BUCKET, key, body);
    await backend.ingested();
  }
  async function api<T = any>(method: string, path: string, status = 200): Promise<T> {
    const res = await fetch(`${backend.url}/api/v1${path}`, { method });
    const body = (await res.json()) as T;
    expect(res.status, `${method} ${path}: ${JSON.stringify(body)}`).toBe(status);
    return body;
  }
  const rollout = () => api('GET', '/rollouts/checkout/config');
  /** Agents keep polling while `ms` pass (each round takes the fleet about 20 s). */
  async function passTime(ms: number): Promise<void> {
    const end = backend.clock.now() + ms;
    while (backend.clock.now() < end) expect((await pollRound(fleet)).size).toBe(0);
  }
  /** The scheduled evaluation sees the step good, then looks again during and after its bake time while agents keep polling. */
  async function bake(): Promise<void> {
    await backend.rollouts.tick();
    const before = await rollout();
    await passTime((BAKE_SECONDS / 2) * 1000);
    await backend.rollouts.tick();
    // Half the bake time is not enough.
    expect((await rollout()).step).toBe(before.step);
    await passTime((BAKE_SECONDS / 2) * 1000);
    await backend.rollouts.tick();
  }
  /** Brings every agent onto `text` through a promoted rollout. */
  async function baseline(text: string, policy: object = POLICY): Promise<void> {
    await upload('configs/checkout/collector.yaml', text);
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout', rollout: policy }));
    await api('POST', '/rollouts/checkout/config/promote');
    await pollRound(fleet);
    expect(fleet.every((c) => c.running?.text === text)).toBe(true);
  }

  it('takes a good configuration from 1 % to 100 % through every step, each step waiting for its agents to stay good', async () => {
    await baseline('receivers: {v: 1}\n', { ...POLICY, steps: [1, 10, 50, 100] });
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 2}\n');
    expect(await rollout()).toMatchObject({ state: 'running', step: 1, id: 'checkout.config.2' });

    const reached: number[] = [];
    // 1 % of 20 agents is one agent; then 2, 10 and all 20.
    for (const expected of [1, 2, 10, 20]) {
      const offered = await pollRound(fleet);
      reached.push(fleet.filter((c) => c.running?.text.includes('v: 2')).length);
      expect(reached.at(-1)).toBe(expected);
      expect([...offered.values()].every((t) => t.includes('v: 2'))).toBe(true);
      await bake();
    }
    const done = await rollout();
    expect(done.state).toBe('completed');
    expect(done.timeline.filter((e: { event: string }) => e.event === 'step-started').map((e: { step: number }) => e.step)).toEqual([1, 2, 3, 4]);
    expect(done.counts).toMatchObject({ targeted: 20, failed: 0 });
  });

  it('pauses at the first step when an agent reports FAILED, leaving the other agents untouched, and resumes or aborts on command', async () => {
    await baseline('receivers: {v: 1}\n');
    await upload('configs/checkout/collector.yaml', 'exporters: {broken: {}}\n');
    const offered = await pollRound(fleet);
    expect(offered.size).toBe(2);
    await backend.rollouts.tick();
    const paused = await rollout();
    expect(paused).toMatchObject({ state: 'paused', step: 1, failedCount: 2 });
    expect(paused.reason).toContain('unknown exporter');
    expect(paused.counts).toMatchObject({ targeted: 20, admitted: 2, failed: 2 });
    // Nobody outside the first step was offered anything, and nothing moves while paused.
    backend.clock.advance(10 * BAKE_SECONDS * 1000);
    await backend.rollouts.tick();
    expect((await pollRound(fleet)).size).toBe(0);
    expect(fleet.filter((c) => c.running?.text.includes('v: 1'))).toHaveLength(20);

    expect(await api('POST', '/rollouts/checkout/config/pause', 409)).toMatchObject({ error: { code: 'rollout-state', message: expect.stringContaining('only a running rollout can be paused') } });
    expect((await api('POST', '/rollouts/checkout/config/resume')).state).toBe('running');
    expect((await api('POST', '/rollouts/checkout/config/abort')).state).toBe('rolled-back');
    const aborted = await rollout();
    expect(aborted.timeline.map((e: { event: string; by: string }) => `${e.event} by ${e.by}`)).toEqual(expect.arrayContaining(['paused by rollout-engine', 'resumed by local', 'aborted by local']));
    // The audit log has the engine's own decisions and the operator's actions, each with its principal.
    const { entries } = await api('GET', '/audit?target=rollouts/checkout&limit=100');
    const seen = entries.map((e: { action: string; principal: string; result: string }) => `${e.action} ${e.principal} ${e.result}`);
    expect(seen).toEqual(
      expect.arrayContaining(['rollout.start rollout-engine ok', 'rollout.pause rollout-engine ok', 'rollout.pause local refused', 'rollout.resume local ok', 'rollout.abort local ok']),
    );
  });

  it('rolls back under onFailure rollback: agents that moved get the previous configuration back, from history, and apply it', async () => {
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout', rollout: { ...POLICY, onFailure: 'rollback' } }));
    await api('POST', '/rollouts/checkout/config/promote');
    await pollRound(fleet);
    // The bucket object is overwritten: the previous version lives on only in the history copies.
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 2}\n');
    const first = await pollRound(fleet);
    const moved = [...first.keys()];
    expect(moved).toHaveLength(2);
    // One of the first wave applies the new version, then turns unhealthy.
    moved[0]!.healthy = false;
    await pollRound(fleet);
    await backend.rollouts.tick();
    const rolledBack = await rollout();
    expect(rolledBack).toMatchObject({ state: 'rolled-back', failedCount: 1 });
    expect(rolledBack.failed[0]).toMatchObject({ instanceUid: moved[0]!.uid, reason: 'unhealthy after applying' });

    moved[0]!.healthy = true;
    const back = await pollRound(fleet);
    expect([...back.keys()].sort()).toEqual([...moved].sort());
    expect([...back.values()]).toEqual(['receivers: {v: 1}\n', 'receivers: {v: 1}\n']);
    expect(fleet.every((c) => c.running?.text === 'receivers: {v: 1}\n')).toBe(true);
    // They report APPLIED for the previous version, and nothing is offered again.
    expect((await pollRound(fleet)).size).toBe(0);
    // Time passes between polls: nobody was asked for its full state again.
    expect(fleet.map((c) => c.fullStateRequests)).toEqual(fleet.map(() => 0));
    const view = await api('GET', '/configs/checkout/rollout');
    expect(view).toMatchObject({ matched: 20 });
  });

  it('shows rollouts in the console, with progress, the reason for a pause, and actions that reach the API', async () => {
    await baseline('receivers: {v: 1}\n');
    await upload('configs/checkout/collector.yaml', 'exporters: {broken: {}}\n');
    await pollRound(fleet);
    await backend.rollouts.tick();
    const overview = await (await fetch(`${backend.url}/`)).text();
    expect(overview).toContain('Staged rollouts');
    expect(overview).toMatch(/checkout \(config\)[\s\S]*badge bad">paused/);
    const page = await (await fetch(`${backend.url}/rollouts`)).text();
    expect(page).toContain('unknown exporter &quot;broken&quot;');
    expect(page).toContain('action="/rollouts/checkout/config/resume"');
    const posted = await fetch(`${backend.url}/rollouts/checkout/config/resume`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: backend.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toContain('is%20running');
    expect((await rollout()).state).toBe('running');
  });

  it('answers 404 for an assignment without a rollout, and 400 for an unknown aspect or action', async () => {
    expect((await api('GET', '/rollouts/nothing/config', 404)).error.message).toContain('no rollout of the configuration of assignment nothing');
    expect((await api('GET', '/rollouts/nothing/settings', 400)).error.message).toContain('`config` or `packages`');
    expect((await api('POST', '/rollouts/nothing/config/explode', 400)).error.message).toContain('`pause`, `resume`, `abort`');
    await api('POST', '/rollouts/nothing/config/pause', 404);
    await api('GET', '/rollouts/bad%20name/config', 400);
    expect((await api('GET', '/rollouts')).rollouts).toEqual([]);
  });
});
