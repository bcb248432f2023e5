import type { Liveness } from '../liveness.js';
import { failuresAllowed } from './policy.js';
import { FAILED_AGENTS_LIMIT, withEvent } from './rollout.js';
import type { FailedAgent, Rollout, RolloutCounts, TimelineEntry } from './rollout.js';
import { cutoffForStep } from './waves.js';

/**
 * Where one agent of a rollout's assignment stands with the change:
 * `outside` the waves started so far, `pending` (admitted, not offered yet),
 * `offered`, `applying`, `applied` (and healthy, and polling), `failed`, or
 * `silent` (admitted, and stopped polling for longer than its interval
 * allows). `not-accepted`: it does not take this kind of change at all.
 */
export type AgentGate = 'outside' | 'pending' | 'offered' | 'applying' | 'applied' | 'failed' | 'silent' | 'not-accepted';

/** What the gates need to know of one agent; the caller works it out from the agent's record. */
export interface RolloutAgent {
  instanceUid: string;
  admitted: boolean;
  /** Where the agent stands with the rollout's `to`, as the offer tracker sees it. */
  progress: 'not-accepted' | 'pending' | 'offered' | 'applying' | 'applied' | 'failed';
  /** Why it failed, when `progress` is `failed`. */
  failure?: string | undefined;
  healthy: boolean | undefined;
  liveness: Liveness;
}

export const ROLLOUT_ENGINE = 'rollout-engine';

/** The gate of one agent, and the failure it stands for. */
export function agentGate(agent: RolloutAgent, alreadyFailed: boolean): { gate: AgentGate; failure?: string } {
  if (agent.progress === 'not-accepted') return { gate: 'not-accepted' };
  if (!agent.admitted) return { gate: 'outside' };
  if (alreadyFailed) return { gate: 'failed' };
  if (agent.progress === 'failed') return { gate: 'failed', failure: agent.failure ?? 'reported FAILED' };
  if (agent.liveness !== 'online') return { gate: 'silent' };
  if (agent.progress === 'applied') return agent.healthy === false ? { gate: 'failed', failure: 'unhealthy after applying' } : { gate: 'applied' };
  return { gate: agent.progress };
}

export interface Evaluation {
  next: Rollout;
  /** The agents' desired state changed (a step started, the rollout completed or rolled back): every function instance must reload. */
  moved: boolean;
  /** Anything worth writing changed. */
  changed: boolean;
}

/**
 * One look at a running rollout, as the scheduled evaluation or a fleet API
 * call makes it: counts every agent of the assignment, records new failures,
 * and takes at most one transition:
 * - more failures than `maxFailed` allows: pause, or roll back;
 * - nobody targeted, or (before the first step) every agent already has `to`
 *   and is good: complete;
 * - not started: start the first step;
 * - every admitted agent good (applied, healthy, polling) for `bakeSeconds`:
 *   start the next step, or complete after the last.
 * A rollout that is not running is only counted.
 */
export function evaluateRollout(rollout: Rollout, agents: readonly RolloutAgent[], now: number): Evaluation {
  const known = new Set(rollout.failed.map((f) => f.instanceUid));
  const counts: RolloutCounts = { targeted: 0, admitted: 0, offered: 0, applying: 0, applied: 0, good: 0, failed: 0, silent: 0, pending: 0, notAccepted: 0 };
  const fresh: FailedAgent[] = [];
  const targeted: string[] = [];
  let everyoneHasIt = true;
  for (const agent of agents) {
    const { gate, failure } = agentGate(agent, known.has(agent.instanceUid));
    if (gate === 'not-accepted') {
      counts.notAccepted++;
      continue;
    }
    counts.targeted++;
    targeted.push(agent.instanceUid);
    if (agent.progress !== 'applied' || agent.healthy === false || agent.liveness !== 'online') everyoneHasIt = false;
    if (gate === 'outside') continue;
    counts.admitted++;
    if (gate === 'failed' || gate === 'silent' || gate === 'pending' || gate === 'offered' || gate === 'applying' || gate === 'applied') counts[gate]++;
    if (failure !== undefined && rollout.state === 'running') fresh.push({ instanceUid: agent.instanceUid, at: now, reason: failure });
  }
  const baked = rollout.goodSince !== undefined && now - rollout.goodSince >= rollout.policy.bakeSeconds * 1000;
  if (baked) {
    counts.good = counts.applied;
    counts.applied = 0;
  }
  const next: Rollout = { ...rollout, counts, evaluatedAt: now };
  if (rollout.state !== 'running') return { next, moved: false, changed: countsChanged(rollout.counts, counts) };

  if (fresh.length > 0) {
    next.failed = [...rollout.failed, ...fresh].slice(0, FAILED_AGENTS_LIMIT);
    next.failedCount = rollout.failedCount + fresh.length;
  }
  const failures = next.failedCount + counts.silent;
  const allowed = failuresAllowed(rollout.policy, counts.targeted) + rollout.acknowledgedFailures;
  if (failures > allowed) {
    const state = rollout.policy.onFailure === 'rollback' ? 'rolled-back' : 'paused';
    const reason = failureReason(next, counts, failures, allowed);
    return transition(
      next,
      { state, reason, goodSince: undefined },
      { at: now, event: state === 'paused' ? 'paused' : 'rolled-back', step: rollout.step, by: ROLLOUT_ENGINE, detail: reason },
      state === 'rolled-back',
    );
  }
  if (counts.targeted === 0 || (rollout.step < 0 && everyoneHasIt)) {
    const detail = counts.targeted === 0 ? 'no agent is targeted' : 'every targeted agent has the change and is good';
    return transition(next, { state: 'completed', cutoff: 1, goodSince: undefined }, { at: now, event: 'completed', step: rollout.step, by: ROLLOUT_ENGINE, detail }, true);
  }
  if (rollout.step < 0) return startStep(next, 0, targeted, now);

  // Failed agents (within the allowance) do not hold the step back; every other admitted agent must be good.
  const waiting = counts.admitted - counts.failed - counts.applied - counts.good;
  if (waiting > 0) return { next: { ...next, goodSince: undefined }, moved: false, changed: true };
  if (rollout.goodSince === undefined) return { next: { ...next, goodSince: now }, moved: false, changed: true };
  if (!baked) return { next, moved: false, changed: countsChanged(rollout.counts, counts) };
  if (rollout.step >= rollout.policy.steps.length - 1) {
    return transition(next, { state: 'completed', cutoff: 1, goodSince: undefined }, { at: now, event: 'completed', step: rollout.step, by: ROLLOUT_ENGINE }, true);
  }
  next.timeline = withEvent(next, { at: now, event: 'step-good', step: rollout.step, by: ROLLOUT_ENGINE, detail: `${counts.good} agents good for ${rollout.policy.bakeSeconds} s` });
  return startStep(next, rollout.step + 1, targeted, now);
}

function startStep(rollout: Rollout, step: number, targeted: readonly string[], now: number): Evaluation {
  const cutoff = cutoffForStep(rollout, step, targeted);
  const entry: TimelineEntry = { at: now, event: 'step-started', step, by: ROLLOUT_ENGINE, detail: `step ${step + 1} of ${rollout.policy.steps.length}: ${describeStep(rollout, step)}` };
  return transition(rollout, { step, cutoff, stepStartedAt: now, goodSince: undefined }, entry, true);
}

function describeStep(rollout: Rollout, step: number): string {
  const share = rollout.policy.steps[step]!;
  return 'percent' in share ? `${share.percent}% of the agents` : `${share.count} agents`;
}

function transition(rollout: Rollout, changes: Partial<Rollout>, entry: TimelineEntry, moved: boolean): Evaluation {
  const next = { ...rollout, ...changes };
  next.timeline = withEvent(next, entry);
  return { next, moved, changed: true };
}

function failureReason(rollout: Rollout, counts: RolloutCounts, failures: number, allowed: number): string {
  const examples = rollout.failed
    .slice(-3)
    .map((f) => `${f.instanceUid}: ${f.reason}`)
    .join('; ');
  const silent = counts.silent > 0 ? ` (${counts.silent} silent)` : '';
  return `${failures} agents failed${silent}, more than the ${allowed} allowed${examples ? `: ${examples}` : ''}`;
}

function countsChanged(before: RolloutCounts | undefined, after: RolloutCounts): boolean {
  if (!before) return true;
  return (Object.keys(after) as Array<keyof RolloutCounts>).some((k) => before[k] !== after[k]);
}
