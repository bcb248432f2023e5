import { stableJson, contentId } from './canonical-hash.js';
import type { AgentDescription, ComponentHealth } from '../gen/opamp/v1/opamp_pb.js';
import { toJson } from '@bufbuild/protobuf';
import { KeyValueSchema } from '../gen/opamp/v1/anyvalue_pb.js';

/**
 * Signs that two running agents share one instance uid. Over HTTP there is no
 * connection to tell them apart, so the server watches what each poll says
 * about the sender and flags patterns one agent does not produce within
 * `windowMs`:
 * - its start time (health.start_time_unix_nano) goes back to the previous
 *   value (a process cannot become older);
 * - its identifying attributes flip back and forth twice (one flip back is an
 *   upgrade rolled back; A, B, A, B is two agents taking turns);
 * - its sequence number goes backwards and then a later message jumps ahead
 *   past the old counter: the old process is still running (a restart starts
 *   afresh and counts on from there, which is never a gap).
 *
 * The agent whose message conflicts with the record's latest state is the one
 * given a fresh uid; the record keeps the state it has.
 */
export interface AgentFingerprint {
  identity?: string | undefined;
  previousIdentity?: string | undefined;
  identityChangedAt?: number | undefined;
  /** Flip-backs to the previous identity within the window. */
  identityFlips?: number | undefined;
  startTime?: string | undefined;
  previousStartTime?: string | undefined;
  startTimeChangedAt?: number | undefined;
  lastResetAt?: number | undefined;
  /** The stored sequence number before the last reset. */
  preResetSeq?: string | undefined;
}

export interface DuplicateEvent {
  at: number;
  /** The uid the newcomer was given. */
  newInstanceUid: string;
  reason: string;
}

export const MAX_DUPLICATE_EVENTS = 5;

export function identityOf(description: AgentDescription): string {
  return contentId(stableJson(description.identifyingAttributes.map((kv) => toJson(KeyValueSchema, kv))));
}

export function startTimeOf(health: ComponentHealth): string | undefined {
  return health.startTimeUnixNano === 0n ? undefined : health.startTimeUnixNano.toString();
}

export interface Observation {
  identity?: string | undefined;
  startTime?: string | undefined;
  sequenceNum: bigint;
  /** The stored sequence number (before this message). */
  storedSeq: bigint | undefined;
  /** The message's sequence number went backwards (not a retry). */
  reset: boolean;
  /** The message's sequence number is further ahead than the agent could have counted since the last write. */
  gap: boolean;
  now: number;
}

/** Why this message looks like it comes from a second agent, or undefined. */
export function duplicateReason(fp: AgentFingerprint, seen: Observation, windowMs: number): string | undefined {
  const recent = (at: number | undefined) => at !== undefined && seen.now - at < windowMs;
  if (seen.startTime !== undefined && seen.startTime !== fp.startTime && seen.startTime === fp.previousStartTime && recent(fp.startTimeChangedAt)) {
    return 'start time went back to an earlier process';
  }
  if (seen.identity !== undefined && seen.identity !== fp.identity && seen.identity === fp.previousIdentity && recent(fp.identityChangedAt) && (fp.identityFlips ?? 0) >= 1) {
    return 'identifying attributes keep flipping between two sets';
  }
  if (seen.gap && fp.preResetSeq !== undefined && recent(fp.lastResetAt) && seen.sequenceNum > BigInt(fp.preResetSeq)) {
    return 'two sequence counters interleave';
  }
  return undefined;
}

/** The fingerprint after a message that was accepted as this agent's. */
export function observe(fp: AgentFingerprint, seen: Observation, windowMs: number): AgentFingerprint {
  const next: AgentFingerprint = { ...fp };
  const recent = (at: number | undefined) => at !== undefined && seen.now - at < windowMs;
  if (seen.identity !== undefined && seen.identity !== fp.identity) {
    if (fp.identity !== undefined) {
      const flipBack = seen.identity === fp.previousIdentity && recent(fp.identityChangedAt);
      next.identityFlips = flipBack ? (fp.identityFlips ?? 0) + 1 : 0;
      next.previousIdentity = fp.identity;
      next.identityChangedAt = seen.now;
    }
    next.identity = seen.identity;
  }
  if (seen.startTime !== undefined && seen.startTime !== fp.startTime) {
    if (fp.startTime !== undefined) {
      next.previousStartTime = fp.startTime;
      next.startTimeChangedAt = seen.now;
    }
    next.startTime = seen.startTime;
  }
  if (seen.reset && seen.storedSeq !== undefined) {
    next.lastResetAt = seen.now;
    next.preResetSeq = seen.storedSeq.toString();
  }
  return next;
}
