import { describe, expect, it } from 'vitest';
import { desiredState } from '../../../../functions/core/desired-state.js';
import type { ConfigAssignment, FleetState } from '../../../../functions/core/fleet.js';
import { orphanedRollouts, plannedRollouts, startRollout } from '../../../../functions/core/rollouts/plan.js';
import type { Rollout } from '../../../../functions/core/rollouts/rollout.js';
import { packageSpecHash } from '../../../../functions/core/rollouts/rollout.js';
import { admitted } from '../../../../functions/core/rollouts/waves.js';
import { parseSelector } from '../../../../functions/core/selector.js';
import { config, fleet } from '../fleet-fixtures.js';
import { POLICY, rollout, uids, V1, V2 } from './rollout-fixtures.js';

const BASE = config('default');
const staged: ConfigAssignment = { name: 'checkout', config: 'checkout', selector: parseSelector('service.name=checkout'), priority: 0, rollout: POLICY };

function fleetWith(current: Rollout | undefined, assignment: ConfigAssignment = staged): FleetState {
  const state = fleet([V2, BASE], [assignment]);
  return current ? { ...state, rollouts: new Map([[`${current.assignment}/${current.aspect}`, current]]) } : state;
}

const agentOf = (instanceUid: string, reportedHash?: string) => ({ instanceUid, attributes: { 'service.name': 'checkout' }, ...(reportedHash ? { remoteConfigStatus: { hash: reportedHash } } : {}) });

describe('what a staged rollout gives each agent', () => {
  const fleetUids = uids(100);
  const running = rollout({ step: 0, cutoff: 0.1 });
  const inWave = fleetUids.filter((u) => admitted(running, u));
  const outside = fleetUids.filter((u) => !admitted(running, u));

  it('gives the new version to the agents of the started waves and the previous one to the others', () => {
    const state = fleetWith(running);
    expect(inWave.length).toBeGreaterThan(0);
    for (const uid of inWave) expect(desiredState(agentOf(uid), state).config).toMatchObject({ configName: 'checkout', config: { hash: V2.hash }, rollout: { id: running.id, side: 'to' } });
    for (const uid of outside) expect(desiredState(agentOf(uid), state).config).toMatchObject({ config: { hash: V1.hash }, rollout: { side: 'from' } });
  });

  it('lets an agent outside the waves keep the new version when it has it already', () => {
    expect(desiredState(agentOf(outside[0]!, V2.hash), fleetWith(running)).config?.config?.hash).toBe(V2.hash);
  });

  it('gives everyone the new version once completed and the previous one once rolled back', () => {
    for (const uid of outside.slice(0, 5)) {
      expect(desiredState(agentOf(uid), fleetWith({ ...running, state: 'completed', cutoff: 1 })).config?.config?.hash).toBe(V2.hash);
      expect(desiredState(agentOf(inWave[0]!, V2.hash), fleetWith({ ...running, state: 'rolled-back' })).config?.config?.hash).toBe(V1.hash);
    }
  });

  it('keeps serving the version the rollout names while the bucket already holds a newer one', () => {
    const newer = { ...config('checkout-v3'), name: 'checkout' };
    const state = { ...fleetWith({ ...running, state: 'completed', cutoff: 1 }), configs: new Map([['checkout', newer]]) };
    expect(desiredState(agentOf(outside[0]!), state).config?.config?.hash).toBe(V2.hash);
  });

  it('leaves agents outside the waves of a new assignment to what other assignments give them', () => {
    const fresh = rollout({ step: 0, cutoff: 0.1, from: undefined });
    expect(desiredState(agentOf(outside[0]!), fleetWith(fresh)).config).toMatchObject({ configName: 'default', via: 'default' });
    expect(desiredState(agentOf(inWave[0]!), fleetWith(fresh)).config).toMatchObject({ configName: 'checkout', via: 'checkout' });
  });

  it('ignores the rollout once the assignment has no policy: the bucket decides at once', () => {
    const { rollout: _policy, ...plain } = staged;
    expect(desiredState(agentOf(outside[0]!), fleetWith(running, plain)).config?.config?.hash).toBe(V2.hash);
  });
});

describe('package sets and agents that join mid-rollout', () => {
  const fleetUids = uids(200);

  it('stages a package set like a configuration: the started waves get the new set, the others keep the previous one', () => {
    const packaged: ConfigAssignment = { name: 'agents', packages: { '': '0.141.0' }, selector: parseSelector('service.name=checkout'), priority: 0, rollout: POLICY };
    const running: Rollout = {
      ...rollout({ assignment: 'agents', aspect: 'packages', id: 'agents.packages.2', step: 0, cutoff: 0.1 }),
      from: { kind: 'packages', spec: { '': '0.140.0' }, hash: packageSpecHash({ '': '0.140.0' }) },
      to: { kind: 'packages', spec: { '': '0.141.0' }, hash: packageSpecHash({ '': '0.141.0' }) },
    };
    const state = { ...fleet([BASE], [packaged]), rollouts: new Map([['agents/packages', running]]) };
    const specs = fleetUids.map((uid) => desiredState(agentOf(uid), state).packages?.spec['']);
    const moved = specs.filter((v) => v === '0.141.0').length;
    expect(moved).toBeGreaterThan(5);
    expect(moved).toBeLessThan(40);
    expect(specs.filter((v) => v === '0.140.0').length).toBe(200 - moved);
    expect(desiredState(agentOf(fleetUids[0]!), state).packages?.rollout?.id).toBe('agents.packages.2');
  });

  it('gives an agent that joins during a step what its wave says, the same on every look', () => {
    const running = rollout({ step: 0, cutoff: 0.5 });
    const state = fleetWith(running);
    const newcomers = uids(400).slice(200);
    const sides = newcomers.map((uid) => desiredState(agentOf(uid), state).config?.rollout?.side);
    expect(sides).toEqual(newcomers.map((uid) => (admitted(running, uid) ? 'to' : 'from')));
    expect(sides.filter((s) => s === 'to').length).toBeGreaterThan(60);
    expect(newcomers.map((uid) => desiredState(agentOf(uid), state).config?.rollout?.side)).toEqual(sides);
  });
});

describe('which changes start a rollout', () => {
  it('starts one for a staged assignment without a rollout, and none once its target is the rollout target', () => {
    const plan = plannedRollouts(fleetWith(undefined)).find((p) => p.assignment === 'checkout');
    expect(plan).toMatchObject({ assignment: 'checkout', aspect: 'config', to: { name: 'checkout', hash: V2.hash } });
    const first = startRollout(plan!, 5);
    expect(first).toMatchObject({ id: 'checkout.config.1', state: 'running', step: -1, cutoff: 0, revision: 1 });
    expect(first.from).toBeUndefined();
    expect(plannedRollouts(fleetWith(first)).filter((p) => p.assignment === 'checkout')).toEqual([]);
  });

  it('moves from what the previous rollout left every agent with', () => {
    const completed = rollout({ state: 'completed', to: { kind: 'config', name: 'checkout', hash: V1.hash, config: V1 }, from: undefined });
    const [plan] = plannedRollouts(fleetWith(completed));
    const next = startRollout(plan!, 5);
    expect(next).toMatchObject({ seq: 3, id: 'checkout.config.3', from: { hash: V1.hash }, to: { hash: V2.hash }, revision: 2 });
    const replaced = startRollout(plannedRollouts(fleetWith(rollout({ state: 'paused', to: { kind: 'config', name: 'checkout', hash: 'other' } })))[0]!, 5);
    expect(replaced.from?.hash).toBe(V1.hash);
    expect(replaced.timeline[0]!.detail).toContain('replaces rollout checkout.config.2');
  });

  it('finds the rollouts whose assignment no longer gives their aspect', () => {
    const packages = rollout({ assignment: 'checkout', aspect: 'packages', id: 'checkout.packages.1' });
    const gone = rollout({ assignment: 'gone', id: 'gone.config.1' });
    const defaults = rollout({ assignment: 'default', id: 'default.config.1' });
    const state = {
      ...fleetWith(rollout()),
      rollouts: new Map([
        ['checkout/config', rollout()],
        ['checkout/packages', packages],
        ['gone/config', gone],
        ['default/config', defaults],
      ]),
    };
    // checkout gives a configuration but no packages; `default` reaches agents through the configuration named default.
    expect(
      orphanedRollouts(state)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['checkout.packages.1', 'gone.config.1']);
  });

  it('completes at once when the change goes back to what every agent has', () => {
    const rolledBack = rollout({ state: 'rolled-back', from: { kind: 'config', name: 'checkout', hash: V2.hash }, to: { kind: 'config', name: 'checkout', hash: 'bad' } });
    const next = startRollout(plannedRollouts(fleetWith(rolledBack))[0]!, 5);
    expect(next).toMatchObject({ state: 'completed', cutoff: 1 });
  });

  it('stages package sets and the default configuration by the default assignment policy, and nothing without a policy', () => {
    const packaged: ConfigAssignment = { name: 'agents', packages: { '': '0.141.0' }, selector: parseSelector('a=b'), priority: 0 };
    const defaults: ConfigAssignment = { name: 'default', priority: 0, rollout: POLICY };
    const staged = (plans: ReturnType<typeof plannedRollouts>) =>
      plans
        .filter((p) => p.policy !== undefined)
        .map((p) => `${p.assignment}/${p.aspect}`)
        .sort();
    const plans = plannedRollouts(fleet([BASE], [packaged, defaults]));
    expect(staged(plans)).toEqual(['agents/packages', 'default/config']);
    expect(plans.find((p) => p.aspect === 'packages')!.to).toEqual({ kind: 'packages', spec: { '': '0.141.0' }, hash: packageSpecHash({ '': '0.141.0' }) });
    expect(staged(plannedRollouts(fleet([BASE], [packaged, { ...defaults, rollout: undefined }])))).toEqual([]);
    expect(staged(plannedRollouts(fleet([BASE], [{ ...packaged, rollout: false }, defaults])))).toEqual(['default/config']);
  });

  it('records what an unstaged assignment gives as a rollout completed at once, so that a policy added later stages the next change from there', () => {
    const { rollout: _policy, ...unstaged } = staged;
    const plan = plannedRollouts(fleetWith(undefined, unstaged)).find((p) => p.assignment === 'checkout')!;
    expect(plan.policy).toBeUndefined();
    const baseline = startRollout(plan, 5);
    expect(baseline).toMatchObject({ state: 'completed', cutoff: 1, to: { hash: V2.hash } });
    expect(baseline.timeline[0]!.detail).toContain('no rollout policy');
    // With the policy added and nothing else changed, nothing starts; every agent keeps the configuration.
    expect(plannedRollouts(fleetWith(baseline)).filter((p) => p.assignment === 'checkout')).toEqual([]);
    expect(desiredState(agentOf(uids(1)[0]!), fleetWith(baseline)).config?.config?.hash).toBe(V2.hash);
  });
});
