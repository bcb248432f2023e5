import type { ConfigAssignment, ConfigMeta, FleetState } from '../fleet.js';
import { DEFAULT_ASSIGNMENT_NAME } from '../fleet.js';
import type { PackageSetSpec } from '../packages.js';
import { resolvePackageSet } from '../packages.js';
import type { RolloutPolicy } from './policy.js';
import type { Rollout, RolloutAspect, RolloutState, RolloutTarget } from './rollout.js';
import { admitted } from './waves.js';

/** What staging needs of an agent: who it is, and what it reports having. */
export interface StagedAgent {
  instanceUid: string;
  remoteConfigStatus?: { hash: string } | undefined;
  serverProvidedAllPackagesHash?: string | undefined;
}

export function rolloutKey(assignment: string, aspect: RolloutAspect): string {
  return `${assignment}/${aspect}`;
}

/**
 * The policy that stages changes of an assignment: its own `rollout`, else
 * the fleet's default (the `rollout` of the assignment named `default`);
 * none when the assignment says `"rollout": false` or nobody set one.
 */
export function policyFor(fleet: FleetState, assignmentName: string): RolloutPolicy | undefined {
  const own = fleet.assignments.find((a) => a.name === assignmentName)?.rollout;
  if (own === false) return undefined;
  if (own) return own;
  const fallback = fleet.assignments.find((a) => a.name === DEFAULT_ASSIGNMENT_NAME && a.instanceUid === undefined && a.selector === undefined)?.rollout;
  return fallback || undefined;
}

/**
 * The rollout that decides what an assignment's agents get for one aspect:
 * only while a policy stages the assignment (without one, every agent gets
 * the assignment's target at once, as the bucket says).
 */
export function stagingRollout(fleet: FleetState, assignmentName: string, aspect: RolloutAspect): Rollout | undefined {
  if (fleet.rollouts.size === 0) return undefined;
  const rollout = fleet.rollouts.get(rolloutKey(assignmentName, aspect));
  return rollout && policyFor(fleet, assignmentName) ? rollout : undefined;
}

/**
 * Which side of a rollout an agent is on: `to` once its wave is admitted (or
 * when it has `to` already: agents keep what they have), `from` otherwise;
 * everyone is on `to` once it completed and on `from` once it rolled back.
 */
export function sideOf(rollout: Rollout, agent: StagedAgent, fleet: FleetState): 'to' | 'from' {
  if (rollout.state === 'completed') return 'to';
  if (rollout.state === 'rolled-back') return 'from';
  if (admitted(rollout, agent.instanceUid) || hasTarget(agent, rollout.to, fleet)) return 'to';
  return 'from';
}

function hasTarget(agent: StagedAgent, target: RolloutTarget, fleet: FleetState): boolean {
  if (target.kind === 'config') return agent.remoteConfigStatus?.hash === target.hash;
  if (agent.serverProvidedAllPackagesHash === undefined) return false;
  const resolved = resolvePackageSet(target.spec, fleet.packages);
  return 'set' in resolved && resolved.set.hash === agent.serverProvidedAllPackagesHash;
}

/** Where an agent stands in the rollout that decides it, in words (agent views: console and CLI). */
export function standingText(side: 'to' | 'from', state: RolloutState): string {
  if (state === 'completed') return 'completed (has the new version)';
  if (state === 'rolled-back') return 'rolled back (keeps the previous version)';
  const paused = state === 'paused' ? ', paused' : '';
  return side === 'to' ? `in a started wave${paused}` : `waiting for its wave${paused} (keeps the previous version)`;
}

/** The configuration a rollout's side stands for: the version it names, served from its kept copy or from the bucket while it holds the same. */
export function stagedConfig(target: RolloutTarget | undefined, fleet: FleetState): { name: string; config: ConfigMeta | undefined } | undefined {
  if (target?.kind !== 'config') return undefined;
  const live = fleet.configs.get(target.name);
  return { name: target.name, config: target.config ?? (live?.hash === target.hash ? live : undefined) };
}

export function stagedPackages(target: RolloutTarget | undefined): PackageSetSpec | undefined {
  return target?.kind === 'packages' ? target.spec : undefined;
}

/**
 * The assignment that decides an aspect for an agent, with rollouts taken
 * into account: `pick(excluded)` chooses among the assignments not excluded;
 * when the winner's rollout leaves the agent on a `from` of nothing (the
 * assignment gave it nothing before), the next one decides, as if the
 * assignment did not target the agent yet.
 */
export function stagedWinner(
  fleet: FleetState,
  agent: StagedAgent,
  aspect: RolloutAspect,
  pick: (excluded: ReadonlySet<string>) => ConfigAssignment | undefined,
  implicitDefault: boolean,
): { winner: ConfigAssignment | undefined; rollout?: Rollout; side?: 'to' | 'from' } {
  const excluded = new Set<string>();
  for (;;) {
    const winner = pick(excluded);
    const via = winner?.name ?? (implicitDefault ? DEFAULT_ASSIGNMENT_NAME : undefined);
    const rollout = via !== undefined ? stagingRollout(fleet, via, aspect) : undefined;
    if (!rollout) return { winner };
    const side = sideOf(rollout, agent, fleet);
    if (side === 'to' || rollout.from !== undefined || winner === undefined) return { winner, rollout, side };
    excluded.add(winner.name);
  }
}
