import type { AgentRecord } from '../agent-record.js';
import { desiredState } from '../desired-state.js';
import type { FleetState } from '../fleet.js';
import type { Liveness } from '../liveness.js';
import { packageRolloutState, resolvePackageSet } from '../packages.js';
import type { PackageSetSpec } from '../packages.js';
import { configRolloutState } from '../remote-config.js';
import type { RemoteConfigPolicy } from '../remote-config.js';
import type { RolloutAgent } from './gates.js';
import type { Rollout } from './rollout.js';
import { stagedConfig } from './staging.js';
import { admitted } from './waves.js';

/** The fleet state as it would be without staging: who an assignment targets, whatever its rollout says. */
export function unstaged(fleet: FleetState): FleetState {
  return fleet.rollouts.size === 0 ? fleet : { ...fleet, rollouts: new Map() };
}

/** Whether the rollout's assignment decides this aspect for the agent (the agent is one of the rollout's). */
export function targetedBy(rollout: Rollout, record: AgentRecord, plain: FleetState): boolean {
  const desired = desiredState(record, plain);
  const target = rollout.aspect === 'config' ? desired.config : desired.packages;
  return target?.via === rollout.assignment;
}

/** One agent of a rollout as the gates see it. */
export function rolloutAgent(rollout: Rollout, record: AgentRecord, fleet: FleetState, context: { policy: RemoteConfigPolicy; now: number; liveness: Liveness }): RolloutAgent {
  const base = { instanceUid: record.instanceUid, admitted: admitted(rollout, record.instanceUid), healthy: record.healthy, liveness: context.liveness };
  if (rollout.to.kind === 'packages') return { ...base, ...packagesProgress(rollout.to.spec, record, fleet) };
  const to = stagedConfig(rollout.to, fleet);
  const state = configRolloutState(
    record.capabilities,
    to && { configName: to.name, via: rollout.assignment, config: to.config },
    record.remoteConfigStatus,
    record.configOffer,
    context.policy,
    context.now,
  );
  switch (state) {
    case 'not-accepted':
    case 'offered':
    case 'applying':
    case 'applied':
    case 'pending':
      return { ...base, progress: state };
    case 'failed':
      return { ...base, progress: 'failed', failure: `reported FAILED${record.remoteConfigStatus?.errorMessage ? `: ${record.remoteConfigStatus.errorMessage}` : ''}` };
    case 'rolled-back':
      return { ...base, progress: 'failed', failure: 'took the configuration, then went back to another one' };
    case 'not-taken':
      return { ...base, progress: 'failed', failure: 'offered the maximum number of times without taking it' };
    case 'none':
      return { ...base, progress: 'pending' };
  }
}

/** Where an agent stands with a package set: applied once every package of it is installed. */
function packagesProgress(spec: PackageSetSpec, record: AgentRecord, fleet: FleetState): Pick<RolloutAgent, 'progress' | 'failure'> {
  const states = Object.entries(spec).map(([name, version]) => [name, packageRolloutState(record.capabilities, version, record.packages?.[name])] as const);
  if (states.some(([, s]) => s === 'not-accepted')) return { progress: 'not-accepted' };
  const failed = states.find(([, s]) => s === 'failed');
  if (failed) return { progress: 'failed', failure: `install of ${failed[0] || 'the agent'} failed${record.packages?.[failed[0]]?.error ? `: ${record.packages[failed[0]]!.error}` : ''}` };
  if (states.every(([, s]) => s === 'installed')) return { progress: 'applied' };
  if (states.some(([, s]) => s === 'installing')) return { progress: 'applying' };
  const resolved = resolvePackageSet(spec, fleet.packages);
  return { progress: 'set' in resolved && record.packagesOffer?.hash === resolved.set.hash ? 'offered' : 'pending' };
}
