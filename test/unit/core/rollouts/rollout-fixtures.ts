import type { RolloutAgent } from '../../../../functions/core/rollouts/gates.js';
import type { RolloutPolicy } from '../../../../functions/core/rollouts/policy.js';
import type { Rollout } from '../../../../functions/core/rollouts/rollout.js';
import { config } from '../fleet-fixtures.js';

/** Builders for the staged rollout tests. */

export const POLICY: RolloutPolicy = { steps: [{ percent: 10 }, { percent: 50 }, { percent: 100 }], bakeSeconds: 60, maxFailed: { count: 0 }, onFailure: 'pause' };

export const V1 = config('checkout', undefined);
export const V2 = { ...config('checkout-v2'), name: 'checkout' };

export function rollout(changes: Partial<Rollout> = {}): Rollout {
  return {
    assignment: 'checkout',
    aspect: 'config',
    seq: 2,
    id: 'checkout.config.2',
    policy: POLICY,
    from: { kind: 'config', name: 'checkout', hash: V1.hash, config: V1 },
    to: { kind: 'config', name: 'checkout', hash: V2.hash, config: V2 },
    state: 'running',
    step: -1,
    cutoff: 0,
    failed: [],
    failedCount: 0,
    acknowledgedFailures: 0,
    timeline: [],
    createdAt: 0,
    updatedAt: 0,
    revision: 1,
    ...changes,
  };
}

export function uids(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `0192f9e4-8a1b-7c3d-9e4f-${String(i).padStart(12, '0')}`);
}

/** An online, healthy agent at the given progress. */
export function agent(instanceUid: string, admitted: boolean, progress: RolloutAgent['progress'] = 'pending', changes: Partial<RolloutAgent> = {}): RolloutAgent {
  return { instanceUid, admitted, progress, healthy: true, liveness: 'online', ...changes };
}
