import type { AgentRecord } from './agent-record.js';

/**
 * - `online`: polled recently enough for its expected interval;
 * - `stale`: missed several polls without saying goodbye (most HTTP clients never do);
 * - `disconnected`: its last message carried agent_disconnect.
 */
export type Liveness = 'online' | 'stale' | 'disconnected';
export const LIVENESS_VALUES: readonly Liveness[] = ['online', 'stale', 'disconnected'];

export interface LivenessPolicy {
  /** How often a heartbeat refreshes the stored last-seen time (it trails by up to this). */
  lastSeenRefreshMs: number;
  /** The interval agents are expected to poll at, unless the server asked one for another (heartbeatSeconds). */
  expectedPollIntervalMs: number;
  /** How many expected polls may be missed before an agent counts as stale. */
  missedPollsBeforeStale: number;
}

export function deriveLiveness(record: AgentRecord, now: number, policy: LivenessPolicy): Liveness {
  if (record.disconnectedAt !== undefined) return 'disconnected';
  const silence = now - record.lastSeenAt;
  // An agent the server asked for an interval polls at that interval.
  const interval = record.heartbeatSeconds !== undefined && record.heartbeatSeconds > 0 ? record.heartbeatSeconds * 1000 : policy.expectedPollIntervalMs;
  const allowed = policy.lastSeenRefreshMs + policy.missedPollsBeforeStale * interval;
  return silence <= allowed ? 'online' : 'stale';
}
