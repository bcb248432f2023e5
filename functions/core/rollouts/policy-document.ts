import * as z from '../schema.js';
import { DEFAULT_BAKE_SECONDS } from './policy.js';
import type { RolloutPolicy, Share } from './policy.js';

/*
 * The `rollout` of an assignment file as it is written and checked (see
 * policy.ts for what it means). Kept apart from the policy itself: the agent
 * endpoint works with policies and never loads the schema library for them.
 */

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
