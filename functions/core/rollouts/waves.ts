import { sha256 } from '../canonical-hash.js';
import { shareOf } from './policy.js';
import type { Rollout } from './rollout.js';

const SCALE = 2 ** 48;

/**
 * An agent's place in a rollout's order, in (0, 1]: a stable hash of the
 * rollout's id and the agent's instance uid. The same agents lead every time
 * a rollout is evaluated, on every function instance, and a paused and
 * resumed rollout does not reshuffle; another rollout orders them anew, so
 * that the same agents do not always take the first risk.
 */
export function wavePosition(rolloutId: string, instanceUid: string): number {
  return (sha256(`${rolloutId}\n${instanceUid}`).readUIntBE(0, 6) + 1) / SCALE;
}

/** Whether the agent is in the waves started so far. */
export function admitted(rollout: Pick<Rollout, 'id' | 'cutoff'>, instanceUid: string): boolean {
  if (rollout.cutoff <= 0) return false;
  if (rollout.cutoff >= 1) return true;
  return wavePosition(rollout.id, instanceUid) <= rollout.cutoff;
}

/**
 * The cutoff that admits step `step`'s share of the targeted agents: the
 * position of the last agent of that share, in wave order. It never falls
 * below the cutoff already reached (agents admitted stay admitted), and the
 * last step admits everyone, agents that join later included. Agents that
 * join while a step runs are admitted when their position falls below the
 * cutoff: they get what their wave says.
 */
export function cutoffForStep(rollout: Pick<Rollout, 'id' | 'cutoff' | 'policy'>, step: number, targeted: readonly string[]): number {
  const steps = rollout.policy.steps;
  if (step >= steps.length - 1) return 1;
  const count = shareOf(steps[step]!, targeted.length);
  if (count === 0) return rollout.cutoff;
  const positions = targeted.map((uid) => wavePosition(rollout.id, uid)).sort((a, b) => a - b);
  return Math.max(rollout.cutoff, positions[count - 1]!);
}
