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
 * have arrived since the last write, at most one per poll interval, so a jump
 * larger than that count is a real gap. The poll interval is the shortest one
 * the server expects, or the agent's own cadence once it has shown one (see
 * `explainJump`). A lost message hidden inside that allowance goes unnoticed
 * until the next gap, reset or full report: the price of polls that write
 * nothing.
 */
export type SequenceVerdict = 'first' | 'next' | 'duplicate' | 'ahead' | 'gap' | 'reset';

export function classifySequence(record: AgentRecord | undefined, sequenceNum: bigint, messageDigest: string | (() => string), now: number, minPollIntervalMs: number): SequenceVerdict {
  if (!record) return 'first';
  const stored = record.sequenceNum;
  if (sequenceNum === stored + 1n) return 'next';
  if (sequenceNum === stored && (typeof messageDigest === 'string' ? messageDigest : messageDigest()) === record.lastMessageDigest) return 'duplicate';
  if (sequenceNum <= stored) return 'reset';
  const skipped = sequenceNum - stored - 1n;
  const unwrittenHeartbeats = BigInt(Math.floor(elapsedSince(record, now) / Math.max(1, minPollIntervalMs)));
  return skipped <= unwrittenHeartbeats ? 'ahead' : 'gap';
}

/** No agent is taken to poll faster than this, whatever its numbers suggest. */
export const MIN_CADENCE_MS = 500;
/**
 * Two jumps whose implied poll intervals are within this factor of each other
 * show a steady cadence; a lost message makes a one-off jump instead.
 */
const CADENCE_MATCH = 0.7;
/** The learned cadence is this fraction of the measured one, to absorb jitter. */
const CADENCE_SLACK = 0.75;

export interface JumpExplanation {
  verdict: SequenceVerdict;
  /** The agent's confirmed cadence, when this jump confirmed one. */
  cadenceMs?: number;
  /** The interval this jump implies, to be confirmed by the next one. */
  candidateMs?: number;
}

/**
 * Agents may poll faster than the server expects (their own interval, not
 * the steered one). Such an agent makes every jump look like a gap. A jump
 * implies a poll interval: the time since the last write over the messages
 * sent since. When two jumps in a row imply the same interval, that is the
 * agent's cadence, and it sets the allowance from then on (the second jump is
 * then no gap). A one-off jump is a gap; its interval is kept as a candidate.
 * Intervals under MIN_CADENCE_MS are never learned: a counter that leaps far
 * ahead is a gap, not a very fast agent.
 */
export function explainJump(record: AgentRecord | undefined, sequenceNum: bigint, now: number, verdict: SequenceVerdict): JumpExplanation {
  if (verdict !== 'gap' || !record) return { verdict };
  const messages = Number(sequenceNum - record.sequenceNum);
  const implied = elapsedSince(record, now) / messages;
  if (implied < MIN_CADENCE_MS) return { verdict };
  const candidate = record.cadenceCandidateMs;
  if (candidate !== undefined && implied >= candidate * CADENCE_MATCH && implied * CADENCE_MATCH <= candidate) {
    return { verdict: 'ahead', cadenceMs: Math.max(MIN_CADENCE_MS, Math.floor(Math.min(candidate, implied) * CADENCE_SLACK)) };
  }
  return { verdict, candidateMs: Math.round(implied) };
}

/**
 * Whether a noisy event (gap, reset) for this agent is worth a log line: the
 * first in each window is; the rest are counted only.
 */
export function shouldLogNoisy(record: AgentRecord | undefined, now: number, windowMs: number): boolean {
  const last = record?.noisyEventLoggedAt;
  return last === undefined || now - last >= windowMs || now < last;
}

function elapsedSince(record: AgentRecord, now: number): number {
  return Math.max(0, now - record.lastSeenAt);
}

/**
 * Whether a newer message from the same sender was stored while this one was
 * in flight, so that the stored number is no longer behind this message's.
 * Such a message is out of order, not a restart: judging it a reset would
 * move the record back to older state and make the sender's next message
 * look like a second agent counting on its own (see duplicates.ts). The
 * record overtook the message when it was written after the message arrived,
 * or after this poll first read it and found its number behind.
 *
 * `firstStored` is the stored number this poll read first (undefined: no
 * record then); a retry of the stored message itself is never overtaken.
 */
export function overtaken(record: AgentRecord | undefined, firstStored: bigint | undefined, sequenceNum: bigint, messageDigest: string | (() => string), arrivedAt: number): boolean {
  if (!record || record.movedTo || sequenceNum > record.sequenceNum) return false;
  const writtenSince = firstStored === undefined || firstStored < sequenceNum || record.lastSeenAt >= arrivedAt;
  if (!writtenSince) return false;
  return sequenceNum !== record.sequenceNum || (typeof messageDigest === 'string' ? messageDigest : messageDigest()) !== record.lastMessageDigest;
}
