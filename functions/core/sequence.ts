import type { AgentRecord } from './agent-record.js';

/**
 * How a message's sequence number relates to what the server knows.
 *
 * - `first`: no record for this agent (new, expired, or reassigned uid).
 * - `next`: exactly one more than the stored number.
 * - `duplicate`: the stored number again, with the same body: a retry of a
 *   message already applied.
 * - `ahead`: further ahead than one, by no more than the heartbeats the server
 *   answered without writing could explain (see below).
 * - `gap`: further ahead than those heartbeats explain: messages were lost.
 * - `reset`: not ahead of the stored number and not a retry: the agent
 *   restarted its counter (restart, or another process using the same uid).
 *
 * The stored number is the one of the last message that was written. A
 * heartbeat that changes nothing is answered without a write (that is the
 * cost model), so its number is not stored, and the next message arrives
 * ahead by more than one although nothing was lost. Such heartbeats can only
 * have arrived since the last write, at most one per `minPollIntervalMs`, so a
 * jump larger than that count is a real gap. A lost message hidden inside that
 * allowance goes unnoticed until the next gap, reset or full report: the price
 * of polls that write nothing.
 */
export type SequenceVerdict = 'first' | 'next' | 'duplicate' | 'ahead' | 'gap' | 'reset';

export function classifySequence(
  record: AgentRecord | undefined,
  sequenceNum: bigint,
  messageDigest: string | (() => string),
  now: number,
  minPollIntervalMs: number,
): SequenceVerdict {
  if (!record) return 'first';
  const stored = record.sequenceNum;
  if (sequenceNum === stored + 1n) return 'next';
  if (sequenceNum === stored && (typeof messageDigest === 'string' ? messageDigest : messageDigest()) === record.lastMessageDigest) return 'duplicate';
  if (sequenceNum <= stored) return 'reset';
  const skipped = sequenceNum - stored - 1n;
  const elapsed = Math.max(0, now - record.lastSeenAt);
  const unwrittenHeartbeats = BigInt(Math.floor(elapsed / Math.max(1, minPollIntervalMs)));
  return skipped <= unwrittenHeartbeats ? 'ahead' : 'gap';
}
