import { RejectedRequestError } from '../errors.js';
import { withEvent } from './rollout.js';
import type { Rollout } from './rollout.js';

/** What an operator can do to a rollout through the fleet API. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'promote';
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = ['pause', 'resume', 'abort', 'promote'];

/** The action does not apply to the rollout as it stands (resuming a completed one, ...). */
export class RolloutStateError extends RejectedRequestError {
  override readonly name = 'RolloutStateError';

  constructor(message: string) {
    super('conflict', 'rollout-state', message);
  }
}

/**
 * The rollout after an operator's action:
 * - `pause`: no step starts until it is resumed; agents keep what they have;
 * - `resume`: steps start again; the failures so far are acknowledged, so only
 *   new ones count against `maxFailed`, and the current step bakes afresh;
 * - `abort`: roll back now: every agent gets `from` again;
 * - `promote`: skip to 100 %: every agent gets `to`, gates no longer apply.
 * Throws RolloutStateError when the action makes no sense in the rollout's state.
 */
export function applyAction(rollout: Rollout, action: RolloutAction, by: string, now: number): Rollout {
  const { state } = rollout;
  const done = state === 'completed' || state === 'rolled-back';
  const id = `rollout ${rollout.id}`;
  switch (action) {
    case 'pause':
      if (state !== 'running') throw new RolloutStateError(`${id} is ${state}: only a running rollout can be paused`);
      return change(rollout, { state: 'paused', reason: `paused by ${by}`, goodSince: undefined }, 'paused', by, now);
    case 'resume':
      if (state !== 'paused') throw new RolloutStateError(`${id} is ${state}: only a paused rollout can be resumed`);
      return change(rollout, { state: 'running', reason: undefined, goodSince: undefined, acknowledgedFailures: rollout.failedCount + (rollout.counts?.silent ?? 0) }, 'resumed', by, now);
    case 'abort':
      if (done) throw new RolloutStateError(`${id} is ${state}: there is nothing to abort`);
      return change(rollout, { state: 'rolled-back', reason: `aborted by ${by}`, goodSince: undefined }, 'aborted', by, now);
    case 'promote':
      if (done) throw new RolloutStateError(`${id} is ${state}: there is nothing to promote`);
      return change(rollout, { state: 'completed', step: rollout.policy.steps.length - 1, cutoff: 1, reason: undefined, goodSince: undefined }, 'promoted', by, now);
  }
}

function change(rollout: Rollout, changes: Partial<Rollout>, event: 'paused' | 'resumed' | 'aborted' | 'promoted', by: string, now: number): Rollout {
  const next = { ...rollout, ...changes };
  next.timeline = withEvent(next, { at: now, event, step: rollout.step, by });
  return next;
}
