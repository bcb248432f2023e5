import type { FleetState } from '../fleet.js';
import { DEFAULT_ASSIGNMENT_NAME, DEFAULT_CONFIG_NAME } from '../fleet.js';
import type { RolloutPolicy } from './policy.js';
import { packageSpecHash, rolloutId } from './rollout.js';
import type { Rollout, RolloutAspect, RolloutTarget } from './rollout.js';
import { policyFor, rolloutKey } from './staging.js';

/** A change that needs a rollout: the assignment's target is not what its current rollout moves agents to. */
export interface PlannedRollout {
  assignment: string;
  aspect: RolloutAspect;
  /** Undefined when no policy stages the assignment: the change is recorded as reaching every agent at once. */
  policy: RolloutPolicy | undefined;
  to: RolloutTarget;
  /** The rollout this one replaces. */
  previous?: Rollout | undefined;
}

/**
 * Every assignment whose configuration or package set differs from what its
 * current rollout moves agents to: each needs a new rollout. The
 * configuration named `default`, which reaches agents without an assignment,
 * is staged by the `default` assignment's policy. Assignments without a
 * policy get a rollout too, completed at once: it records what their agents
 * have, so that a policy added later stages the next change from there
 * (rather than from nothing, which would take the configuration away from
 * agents outside the first step).
 */
export function plannedRollouts(fleet: FleetState): PlannedRollout[] {
  const planned: PlannedRollout[] = [];
  const consider = (assignment: string, aspect: RolloutAspect, to: RolloutTarget | undefined) => {
    const policy = policyFor(fleet, assignment);
    if (!to) return;
    const previous = fleet.rollouts.get(rolloutKey(assignment, aspect));
    if (previous && sameTarget(previous.to, to)) return;
    planned.push({ assignment, aspect, policy, to, ...(previous ? { previous } : {}) });
  };
  let defaultConfig = false;
  for (const assignment of fleet.assignments) {
    if (assignment.config !== undefined) {
      const config = fleet.configs.get(assignment.config);
      consider(assignment.name, 'config', config && { kind: 'config', name: config.name, hash: config.hash });
      if (assignment.name === DEFAULT_ASSIGNMENT_NAME) defaultConfig = true;
    }
    if (assignment.packages !== undefined) consider(assignment.name, 'packages', { kind: 'packages', spec: assignment.packages, hash: packageSpecHash(assignment.packages) });
  }
  const fallback = fleet.configs.get(DEFAULT_CONFIG_NAME);
  if (!defaultConfig && fallback) consider(DEFAULT_ASSIGNMENT_NAME, 'config', { kind: 'config', name: fallback.name, hash: fallback.hash });
  return planned;
}

/**
 * Rollouts whose assignment no longer gives that aspect (the assignment was
 * removed, or no longer names a configuration or package set): nothing
 * follows them, and a later assignment of the same name starts afresh.
 */
export function orphanedRollouts(fleet: FleetState): Rollout[] {
  const live = new Set<string>();
  for (const assignment of fleet.assignments) {
    if (assignment.config !== undefined) live.add(rolloutKey(assignment.name, 'config'));
    if (assignment.packages !== undefined) live.add(rolloutKey(assignment.name, 'packages'));
  }
  if (fleet.configs.has(DEFAULT_CONFIG_NAME)) live.add(rolloutKey(DEFAULT_ASSIGNMENT_NAME, 'config'));
  return [...fleet.rollouts.entries()].filter(([key]) => !live.has(key)).map(([, rollout]) => rollout);
}

export function sameTarget(a: RolloutTarget | undefined, b: RolloutTarget | undefined): boolean {
  if (!a || !b || a.kind !== b.kind) return false;
  return a.kind === 'config' && b.kind === 'config' ? a.name === b.name && a.hash === b.hash : a.hash === b.hash;
}

/**
 * The rollout that replaces `previous`: from what the agents had when it
 * ended (its `to` once completed; otherwise its `from`, the last version that
 * reached every agent), to the new target. Going back to exactly what every
 * agent has completes at once.
 */
export function startRollout(plan: PlannedRollout, now: number): Rollout {
  const { previous } = plan;
  const seq = (previous?.seq ?? 0) + 1;
  const from = previous ? (previous.state === 'completed' ? previous.to : previous.from) : undefined;
  const id = rolloutId(plan.assignment, plan.aspect, seq);
  const back = sameTarget(from, plan.to) || plan.policy === undefined;
  const why = plan.policy === undefined ? ': at once, no rollout policy stages the assignment' : back ? ': every agent has it already' : '';
  const supersedes = previous && (previous.state === 'running' || previous.state === 'paused') ? `; replaces rollout ${previous.id}, which was ${previous.state} at step ${previous.step + 1}` : '';
  return {
    assignment: plan.assignment,
    aspect: plan.aspect,
    seq,
    id,
    policy: plan.policy ?? AT_ONCE,
    ...(from ? { from } : {}),
    to: plan.to,
    state: back ? 'completed' : 'running',
    step: -1,
    cutoff: back ? 1 : 0,
    failed: [],
    failedCount: 0,
    acknowledgedFailures: 0,
    timeline: [
      {
        at: now,
        event: back ? 'completed' : 'created',
        by: 'rollout-engine',
        detail: `${describeTarget(from)} to ${describeTarget(plan.to)}${why}${supersedes}`,
      },
    ],
    createdAt: now,
    updatedAt: now,
    revision: (previous?.revision ?? 0) + 1,
  };
}

/** What a change without a policy does: everything at once. */
const AT_ONCE: RolloutPolicy = { steps: [{ percent: 100 }], bakeSeconds: 0, maxFailed: { count: 0 }, onFailure: 'pause' };

export function describeTarget(target: RolloutTarget | undefined): string {
  if (!target) return 'nothing';
  if (target.kind === 'config') return `${target.name} (${Buffer.from(target.hash, 'base64').toString('hex').slice(0, 12)})`;
  const entries = Object.entries(target.spec);
  return entries.length === 0 ? 'no packages' : entries.map(([name, version]) => `${name || '_agent'} ${version}`).join(', ');
}
