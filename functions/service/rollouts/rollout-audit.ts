import type { AuditEntry } from '../../core/audit.js';
import type { Rollout } from '../../core/rollouts/rollout.js';

/**
 * The audit entry of a transition the rollout engine made on its own (a
 * rollout started, a step started, a pause or rollback on failures, the
 * completion). Operators' actions are recorded by the fleet API like every
 * other request.
 */
export function rolloutAuditEntry(rollout: Rollout, action: string, principal: string, now: number): AuditEntry {
  return {
    at: now,
    principal,
    source: 'rollout',
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
