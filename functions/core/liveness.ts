import type { AgentRecord } from './agent-record.js';
import type { PresenceSighting } from './presence.js';

/**
 * - `online`: polled recently enough for its expected interval;
 * - `stale`: missed several polls without saying goodbye (most HTTP clients never do);
 * - `disconnected`: its last message carried agent_disconnect.
 */
export type Liveness = 'online' | 'stale' | 'disconnected';
export const LIVENESS_VALUES: readonly Liveness[] = ['online', 'stale', 'disconnected'];

export interface LivenessPolicy {
  /** How long after a poll its presence batch may be written (polls become visible that late). */
  presenceWindowMs: number;
  /** The interval agents are expected to poll at, unless the server asked one for another (heartbeatSeconds). */
  expectedPollIntervalMs: number;
  /** How many expected polls may be missed before an agent counts as stale. */
  missedPollsBeforeStale: number;
}

/**
 * When the agent was last answered: its record is written only when its state
 * changes (and, rarely, to keep it), so the newest presence sighting usually
 * says more.
 */
export function lastSeenAt(record: AgentRecord, sighting?: PresenceSighting): number {
  return Math.max(record.lastSeenAt, sighting?.seenAt ?? 0);
}

/** The interval the agent polls at: as last seen (steered or observed), else as steered on its record, else the expected one. */
export function pollIntervalMs(record: AgentRecord, policy: LivenessPolicy, sighting?: PresenceSighting): number {
  if (sighting && sighting.intervalSeconds > 0) return sighting.intervalSeconds * 1000;
  if (record.heartbeatSeconds !== undefined && record.heartbeatSeconds > 0) return record.heartbeatSeconds * 1000;
  return policy.expectedPollIntervalMs;
}

export function deriveLiveness(record: AgentRecord, now: number, policy: LivenessPolicy, sighting?: PresenceSighting): Liveness {
  if (record.disconnectedAt !== undefined) return 'disconnected';
  const silence = now - lastSeenAt(record, sighting);
  const allowed = policy.presenceWindowMs + policy.missedPollsBeforeStale * pollIntervalMs(record, policy, sighting);
  return silence <= allowed ? 'online' : 'stale';
}
