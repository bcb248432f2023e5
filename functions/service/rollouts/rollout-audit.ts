import type { Rollout } from '../../core/rollouts/rollout.js';

/** One audit log entry of a rollout's change, as the audit log records it. */
export interface RolloutAuditEntry {
  at: number;
  principal: string;
  source: 'rollout' | 'api';
  action: string;
  target: string;
  result: 'ok';
  detail: Record<string, string | number | boolean>;
}

export interface RolloutAuditLog {
  record(entry: RolloutAuditEntry): Promise<void>;
}

/** The audit entry of a change to a rollout: who did what, and where it left the rollout. */
export function rolloutAuditEntry(rollout: Rollout, action: string, principal: string, now: number): RolloutAuditEntry {
  return {
    at: now,
    principal,
    source: principal === 'rollout-engine' ? 'rollout' : 'api',
    action,
    target: `rollouts/${rollout.assignment}/${rollout.aspect}`,
    result: 'ok',
    detail: {
      rollout: rollout.id,
      state: rollout.state,
      step: rollout.step + 1,
      ...(rollout.reason ? { reason: rollout.reason } : {}),
    },
  };
}
