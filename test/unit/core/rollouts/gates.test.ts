import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRollout } from '../../../../functions/core/rollouts/gates.js';
import type { RolloutAgent } from '../../../../functions/core/rollouts/gates.js';
import { failuresAllowed, shareOf } from '../../../../functions/core/rollouts/policy.js';
import type { RolloutPolicy } from '../../../../functions/core/rollouts/policy.js';
import type { Rollout } from '../../../../functions/core/rollouts/rollout.js';
import { admitted, cutoffForStep, wavePosition } from '../../../../functions/core/rollouts/waves.js';
import { agent, POLICY, rollout, uids } from './rollout-fixtures.js';

const BAKE = POLICY.bakeSeconds * 1000;

/** Every agent of `fleet` as the gates see it, admitted by the rollout's cutoff, progressing as `fate` says. */
function agentsOf(r: Rollout, fleet: readonly string[], fate: (uid: string) => Partial<RolloutAgent> = () => ({ progress: 'applied' })): RolloutAgent[] {
  return fleet.map((uid) => {
    const inWave = admitted(r, uid);
    return inWave ? agent(uid, true, 'applied', fate(uid)) : agent(uid, false, 'pending');
  });
}

/** Evaluates until the rollout stops running or `rounds` looks were taken, one bake time apart. */
function run(start: Rollout, fleet: readonly string[], fate: (uid: string) => Partial<RolloutAgent>, rounds = 40): Rollout[] {
  const history = [start];
  let current = start;
  let now = 1_000_000;
  for (let i = 0; i < rounds && current.state === 'running'; i++) {
    current = evaluateRollout(current, agentsOf(current, fleet, fate), now).next;
    history.push(current);
    now += BAKE;
  }
  return history;
}

describe('wave selection', () => {
  it('is a stable position per rollout and agent, different across rollouts', () => {
    const [a, b] = uids(2) as [string, string];
    expect(wavePosition('checkout.config.2', a)).toBe(wavePosition('checkout.config.2', a));
    expect(wavePosition('checkout.config.2', a)).not.toBe(wavePosition('checkout.config.3', a));
    expect(wavePosition('checkout.config.2', a)).not.toBe(wavePosition('checkout.config.2', b));
  });

  it('admits the leading share of the agents at each step, the same ones again after a reload, and everyone at the end', () => {
    const fleet = uids(200);
    const r = rollout();
    const first = cutoffForStep(r, 0, fleet);
    const leaders = fleet.filter((uid) => admitted({ id: r.id, cutoff: first }, uid));
    expect(leaders).toHaveLength(20);
    expect(fleet.filter((uid) => admitted({ id: r.id, cutoff: cutoffForStep({ ...r }, 0, [...fleet].reverse()) }, uid))).toEqual(leaders);
    const second = cutoffForStep({ ...r, cutoff: first }, 1, fleet);
    const next = fleet.filter((uid) => admitted({ id: r.id, cutoff: second }, uid));
    expect(next).toHaveLength(100);
    expect(next).toEqual(expect.arrayContaining(leaders));
    expect(cutoffForStep({ ...r, cutoff: second }, 2, fleet)).toBe(1);
  });

  it('never offers beyond its step for any fleet size and policy (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 4 }), (size, raw) => {
        const steps = [...new Set(raw)].sort((a, b) => a - b).map((percent) => ({ percent }));
        const policy: RolloutPolicy = { ...POLICY, steps: [...steps, { percent: 100 }] };
        const fleet = uids(size);
        let r = rollout({ policy });
        for (let step = 0; step < policy.steps.length - 1; step++) {
          r = { ...r, cutoff: cutoffForStep(r, step, fleet) };
          const inWave = fleet.filter((uid) => admitted(r, uid)).length;
          expect(inWave).toBeLessThanOrEqual(shareOf(policy.steps[step]!, size));
        }
      }),
    );
  });
});

describe('health gates and transitions', () => {
  it('starts the first step, bakes it, and goes step by step to completed when every agent is good', () => {
    const fleet = uids(50);
    const history = run(rollout(), fleet, () => ({ progress: 'applied' }));
    const last = history.at(-1)!;
    expect(last.state).toBe('completed');
    expect(last.cutoff).toBe(1);
    expect(last.timeline.filter((e) => e.event === 'step-started').map((e) => e.step)).toEqual([0, 1, 2]);
    // Each step waited its bake time: no step started at the look that first found it good.
    const starts = history.filter((r, i) => i > 0 && r.step !== history[i - 1]!.step);
    expect(starts.length).toBe(3);
  });

  it('pauses at the first step when an agent reports FAILED, with the reason and the others untouched', () => {
    const fleet = uids(40);
    const first = evaluateRollout(rollout(), agentsOf(rollout(), fleet), 0).next;
    const leaders = fleet.filter((uid) => admitted(first, uid));
    const bad = leaders[0]!;
    const history = run(first, fleet, (uid) => (uid === bad ? { progress: 'failed', failure: 'reported FAILED: bad exporter' } : { progress: 'applied' }));
    const last = history.at(-1)!;
    expect(last.state).toBe('paused');
    expect(last.step).toBe(0);
    expect(last.cutoff).toBe(first.cutoff);
    expect(last.reason).toContain(bad);
    expect(last.reason).toContain('bad exporter');
    expect(last.failed.map((f) => f.instanceUid)).toEqual([bad]);
  });

  it('rolls back under onFailure rollback', () => {
    const fleet = uids(10);
    const start = rollout({ policy: { ...POLICY, onFailure: 'rollback' } });
    const last = run(start, fleet, () => ({ progress: 'failed' })).at(-1)!;
    expect(last.state).toBe('rolled-back');
    expect(last.timeline.at(-1)!.event).toBe('rolled-back');
  });

  it('counts an agent that turns unhealthy after applying, and one that goes silent, as failed', () => {
    const started = rollout({ step: 0, cutoff: 1 });
    const [sick, quiet, fine] = uids(3) as [string, string, string];
    const sickEval = evaluateRollout(started, [agent(sick, true, 'applied', { healthy: false }), agent(fine, true, 'applied')], 0).next;
    expect(sickEval.state).toBe('paused');
    expect(sickEval.failed[0]).toMatchObject({ instanceUid: sick, reason: 'unhealthy after applying' });
    const quietEval = evaluateRollout(started, [agent(quiet, true, 'applied', { liveness: 'stale' }), agent(fine, true, 'applied')], 0).next;
    expect(quietEval.state).toBe('paused');
    expect(quietEval.counts).toMatchObject({ silent: 1, applied: 1 });
  });

  it('tolerates failures up to maxFailed, and keeps a failed agent failed after it recovers', () => {
    const fleet = uids(20);
    const start = rollout({ step: 0, cutoff: 1, policy: { ...POLICY, maxFailed: { count: 1 } } });
    const once = evaluateRollout(start, [agent(fleet[0]!, true, 'failed'), ...fleet.slice(1).map((u) => agent(u, true, 'applied'))], 0).next;
    expect(once.state).toBe('running');
    expect(once.failedCount).toBe(1);
    const recovered = evaluateRollout(
      once,
      fleet.map((u) => agent(u, true, 'applied')),
      BAKE,
    ).next;
    expect(recovered.counts!.failed).toBe(1);
    const second = evaluateRollout(recovered, [agent(fleet[1]!, true, 'failed'), ...fleet.slice(2).map((u) => agent(u, true, 'applied'))], 2 * BAKE).next;
    expect(second.state).toBe('paused');
  });

  it('restarts the bake when an admitted agent is not good any more', () => {
    const [a, b] = uids(2) as [string, string];
    const started = rollout({ step: 0, cutoff: 1 });
    const good = evaluateRollout(started, [agent(a, true, 'applied'), agent(b, true, 'applied')], 0).next;
    expect(good.goodSince).toBe(0);
    const wobble = evaluateRollout(good, [agent(a, true, 'applied'), agent(b, true, 'applying')], BAKE / 2).next;
    expect(wobble.goodSince).toBeUndefined();
    expect(wobble.step).toBe(0);
  });

  it('completes at once when nobody is targeted, or when every agent already has the change', () => {
    expect(evaluateRollout(rollout(), [], 0).next.state).toBe('completed');
    const fleet = uids(5);
    const done = evaluateRollout(
      rollout(),
      fleet.map((u) => agent(u, false, 'applied')),
      0,
    ).next;
    expect(done.state).toBe('completed');
  });

  it('leaves agents that do not take the change out of the counts', () => {
    const [a, b] = uids(2) as [string, string];
    const next = evaluateRollout(rollout(), [agent(a, false, 'not-accepted'), agent(b, false, 'pending')], 0).next;
    expect(next.counts).toMatchObject({ targeted: 1, notAccepted: 1 });
  });

  it('never advances on a failed gate and always ends completed, paused or rolled back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.integer({ min: 0, max: 3 }), fc.boolean(), (size, failShare, maxFailed, rollback) => {
        const fleet = uids(size);
        const policy: RolloutPolicy = { ...POLICY, maxFailed: { count: maxFailed }, onFailure: rollback ? 'rollback' : 'pause' };
        const bad = new Set(fleet.filter((uid) => wavePosition('fate', uid) < failShare));
        const history = run(rollout({ policy }), fleet, (uid) => (bad.has(uid) ? { progress: 'failed' } : { progress: 'applied' }), 60);
        const last = history.at(-1)!;
        expect(['completed', rollback ? 'rolled-back' : 'paused']).toContain(last.state);
        for (let i = 1; i < history.length; i++) {
          const [before, after] = [history[i - 1]!, history[i]!];
          if (after.step > before.step || (after.state === 'completed' && before.state !== 'completed')) {
            expect(before.failedCount + (before.counts?.silent ?? 0)).toBeLessThanOrEqual(failuresAllowed(policy, size));
            expect(after.failedCount).toBeLessThanOrEqual(failuresAllowed(policy, size));
          }
        }
        if (last.state === 'completed') expect(last.failedCount).toBeLessThanOrEqual(maxFailed);
      }),
    );
  });
});
