/**
 * How a change of an assignment's configuration or package set reaches its
 * agents. In an assignment file:
 *
 *   "rollout": {"steps": [1, 10, 50, 100], "bakeSeconds": 300, "maxFailed": "5%", "onFailure": "rollback"}
 *
 * - `steps`: cumulative shares of the targeted agents. A number or "N%" is a
 *   percentage; a string of digits ("5") is a number of agents. A last step
 *   short of 100 % is followed by 100 %.
 * - `bakeSeconds`: how long every agent of a step must stay good before the
 *   next step starts (default 300).
 * - `maxFailed`: how many agents of the rollout may fail before it stops: a
 *   number of agents (5 or "5"), or "N%" of the targeted agents (default 0).
 * - `onFailure`: `pause` (default) or `rollback`.
 *
 * `"rollout": false` opts an assignment out of the fleet's default policy,
 * which is the `rollout` of the assignment named `default`.
 */
export interface RolloutPolicy {
  steps: readonly RolloutStep[];
  bakeSeconds: number;
  maxFailed: Share;
  onFailure: 'pause' | 'rollback';
}

/** A share of the targeted agents: a percentage, or a number of agents. */
export type Share = { percent: number } | { count: number };
export type RolloutStep = Share;

export const DEFAULT_BAKE_SECONDS = 300;
/** How many agents a share of `total` is: a percentage rounds up (a non-empty share is at least one agent); a count is capped at the total. */
export function shareOf(share: Share, total: number): number {
  if ('count' in share) return Math.min(share.count, total);
  if (share.percent >= 100) return total;
  return Math.min(total, Math.ceil((share.percent * total) / 100));
}

/** How many failed agents a rollout of `total` agents tolerates (a percentage rounds down: "5%" of 10 agents is 0). */
export function failuresAllowed(policy: RolloutPolicy, total: number): number {
  const max = policy.maxFailed;
  return 'count' in max ? max.count : Math.floor((max.percent * total) / 100);
}

/** The policy as it is written in a document (for the API and the assignment file). */
export function policyDocumentOf(policy: RolloutPolicy): { steps: Array<number | string>; bakeSeconds: number; maxFailed: number | string; onFailure: string } {
  const text = (s: Share) => ('percent' in s ? s.percent : String(s.count));
  return {
    steps: policy.steps.map(text),
    bakeSeconds: policy.bakeSeconds,
    maxFailed: 'percent' in policy.maxFailed ? `${policy.maxFailed.percent}%` : policy.maxFailed.count,
    onFailure: policy.onFailure,
  };
}
