import { describe, expect, it } from 'vitest';
import { desiredState } from '../../../functions/core/desired-state.js';
import type { ConfigAssignment, FleetState } from '../../../functions/core/fleet.js';
import { emptyRecord } from '../../../functions/core/poll-record.js';
import { DEFAULT_REMOTE_CONFIG_POLICY } from '../../../functions/core/remote-config.js';
import type { Rollout } from '../../../functions/core/rollouts/rollout.js';
import { standingText } from '../../../functions/core/rollouts/staging.js';
import { admitted } from '../../../functions/core/rollouts/waves.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { packagesView, remoteConfigView } from '../../../functions/service/agent-views.js';
import { config, fleet } from '../core/fleet-fixtures.js';
import { POLICY, rollout, uids, V2 } from '../core/rollouts/rollout-fixtures.js';

const staged: ConfigAssignment = { name: 'checkout', config: 'checkout', selector: parseSelector('service.name=checkout'), priority: 0, rollout: POLICY };

function fleetWith(current: Rollout): FleetState {
  return { ...fleet([V2, config('default')], [staged]), rollouts: new Map([[`${current.assignment}/${current.aspect}`, current]]) };
}

function viewOf(uid: string, state: FleetState) {
  const record = { ...emptyRecord(uid, 0, 1), attributes: { 'service.name': 'checkout' } };
  return remoteConfigView(record, desiredState(record, state).config, DEFAULT_REMOTE_CONFIG_POLICY, 0);
}

describe('the staged rollout in an agent view', () => {
  const running = rollout({ step: 0, cutoff: 0.5 });
  const all = uids(40);
  const inWave = all.find((u) => admitted(running, u))!;
  const outside = all.find((u) => !admitted(running, u))!;

  it("names the rollout that decided the agent's configuration, and the side the agent is on", () => {
    expect(viewOf(inWave, fleetWith(running)).desired).toMatchObject({ config: 'checkout', via: 'checkout', rollout: { id: 'checkout.config.2', side: 'to', state: 'running' } });
    expect(viewOf(outside, fleetWith(running)).desired).toMatchObject({ via: 'checkout', rollout: { id: 'checkout.config.2', side: 'from', state: 'running' } });
    expect(viewOf(outside, fleetWith({ ...running, state: 'paused' })).desired?.rollout).toEqual({ id: 'checkout.config.2', side: 'from', state: 'paused' });
  });

  it('is null when no staged rollout decided it', () => {
    const plain = fleet([V2, config('default')], [{ ...staged, rollout: false }]);
    expect(viewOf(inWave, plain).desired).toMatchObject({ config: 'checkout', rollout: null });
  });

  it('names the rollout that decided the package set, and is null without one', () => {
    const record = emptyRecord(inWave, 0, 1);
    const base = { config: undefined, settings: undefined, packageSet: undefined };
    const spec = { _agent: '1.2.0' };
    const stagedSet = packagesView(record, { ...base, packages: { spec, via: 'upgrade', rollout: { id: 'upgrade.packages.3', side: 'from', state: 'running' } } });
    const plainSet = packagesView(record, { ...base, packages: { spec, via: 'upgrade' } });

    expect(stagedSet.desired).toMatchObject({ via: 'upgrade', versions: { _agent: '1.2.0' }, rollout: { id: 'upgrade.packages.3', side: 'from', state: 'running' } });
    expect(plainSet.desired?.rollout).toBeNull();
  });

  it('says in words where the agent stands', () => {
    expect(standingText('to', 'running')).toBe('in a started wave');
    expect(standingText('from', 'running')).toBe('waiting for its wave (keeps the previous version)');
    expect(standingText('from', 'paused')).toBe('waiting for its wave, paused (keeps the previous version)');
    expect(standingText('to', 'completed')).toBe('completed (has the new version)');
    expect(standingText('from', 'rolled-back')).toBe('rolled back (keeps the previous version)');
  });
});
