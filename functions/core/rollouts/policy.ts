import * as z from '../schema.js';

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
const MAX_STEPS = 20;
const MAX_BAKE_SECONDS = 7 * 24 * 3600;

const share = z.union([
  z.number().check(z.minimum(0), z.maximum(100)),
  z.string().check(z.regex(/^(\d{1,7}|\d{1,3}(\.\d{1,3})?%)$/, 'write a share as a percentage ("5%" or 5) or a number of agents ("3")')),
]);

export const rolloutPolicyDocument = z.strictObject({
  steps: z.array(share).check(z.minLength(1, 'give at least one step'), z.maxLength(MAX_STEPS, `at most ${MAX_STEPS} steps`)),
  bakeSeconds: z._default(z.int().check(z.minimum(0), z.maximum(MAX_BAKE_SECONDS)), DEFAULT_BAKE_SECONDS),
  maxFailed: z._default(z.union([z.int().check(z.minimum(0)), share]), 0),
  onFailure: z._default(z.enum(['pause', 'rollback']), 'pause'),
});

export type RolloutPolicyDocument = z.input<typeof rolloutPolicyDocument>;

/** A share as written: numbers and "N%" are percentages, digit strings are agent counts. */
export function parseShare(value: number | string): Share {
  if (typeof value === 'number') return { percent: value };
  if (value.endsWith('%')) return { percent: Number(value.slice(0, -1)) };
  return { count: Number(value) };
}

/**
 * The policy of a validated document, or why it cannot be one: steps must
 * grow (percentages and counts each among themselves), a percentage above 100
 * makes no sense, and the last step reaches every agent.
 */
export function policyOfDocument(doc: z.output<typeof rolloutPolicyDocument>): RolloutPolicy | string {
  const steps = doc.steps.map(parseShare);
  for (const step of steps) {
    if ('percent' in step && (step.percent <= 0 || step.percent > 100)) return 'steps: a percentage step is above 0 and at most 100';
    if ('count' in step && step.count < 1) return 'steps: a step of agents counts at least 1';
  }
  for (let i = 1; i < steps.length; i++) {
    const [a, b] = [steps[i - 1]!, steps[i]!];
    const grows = 'percent' in a && 'percent' in b ? b.percent > a.percent : 'count' in a && 'count' in b ? b.count > a.count : true;
    if (!grows) return `steps: each step must reach more agents than the one before (step ${i + 1})`;
  }
  const maxFailed: Share = typeof doc.maxFailed === 'number' ? { count: doc.maxFailed } : parseShare(doc.maxFailed);
  if ('percent' in maxFailed && maxFailed.percent > 100) return 'maxFailed: a percentage is at most 100';
  const last = steps.at(-1)!;
  if (!('percent' in last && last.percent === 100)) steps.push({ percent: 100 });
  return { steps, bakeSeconds: doc.bakeSeconds, maxFailed, onFailure: doc.onFailure };
}

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
