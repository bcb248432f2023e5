/*
 * One way of tracking what the server offered an agent and what became of
 * it, shared by configurations, package sets and connection settings. Each
 * keeps its own offer record (with its own extra fields, stored as they
 * always were); how an offer is counted, when it is repeated, when the
 * server gives up, and where the agent stands are decided here for all.
 */

/** What every offer record keeps, whatever it offers. */
export interface OfferRecord {
  /** The offered content's hash (base64), as the agent will report it. */
  hash: string;
  offeredAt: number;
  /** Sequence number of the message whose reply carried the offer (to answer a retry the same way). */
  offeredSeq: bigint;
  /** How many replies carried this hash. */
  attempts: number;
}

export interface ResendPolicy {
  /** An offer the agent has not answered is repeated after this long (the reply may have been lost). */
  resendAfterMs: number;
  /** After this many offers of one hash without the agent taking it, the server stops offering it. */
  maxAttempts: number;
}

/** The offer record after one more reply carries `hash`: attempts count replies with the same hash. */
export function nextOffer(previous: OfferRecord | undefined, hash: string, now: number, seq: bigint): OfferRecord {
  return { hash, offeredAt: now, offeredSeq: seq, attempts: previous?.hash === hash ? previous.attempts + 1 : 1 };
}

/** Every attempt was made. */
export function outOfAttempts(offer: OfferRecord, policy: ResendPolicy): boolean {
  return offer.attempts >= policy.maxAttempts;
}

/** Every attempt was made and the last one's quiet period passed: the agent is not taking it. */
export function exhausted(offer: OfferRecord, now: number, policy: ResendPolicy): boolean {
  return outOfAttempts(offer, policy) && now - offer.offeredAt >= policy.resendAfterMs;
}

export interface OfferDueInput {
  /** The hash the agent should have. */
  desired: string;
  /** The agent has it already (it reported it, or it is known to have been sent it). */
  has: boolean;
  offer: OfferRecord | undefined;
  /** The agent reports what became of offers. Without reports a lost reply cannot be told from success: each hash is offered once. */
  reports: boolean;
  /** The server gave up on this offer for a reason of its own (the agent went back from it). */
  abandoned?: boolean | undefined;
  now: number;
  policy: ResendPolicy;
}

/**
 * Whether this reply should carry the desired content: a new hash always; the
 * offered one again only to an agent that reports, after a quiet period, a
 * bounded number of times.
 */
export function offerDue(input: OfferDueInput): boolean {
  const { offer, policy } = input;
  if (input.has) return false;
  if (offer?.hash !== input.desired) return true;
  if (input.abandoned || outOfAttempts(offer, policy) || !input.reports) return false;
  return input.now - offer.offeredAt >= policy.resendAfterMs;
}

/** What the agent reported for a hash. */
export interface ReportedOutcome {
  hash: string;
  outcome: 'applying' | 'applied' | 'failed';
}

/** The outcome an apply status stands for, given the codes of its enum (configuration and settings statuses have their own). */
export function outcomeOf(status: number, codes: { applied: number; failed: number }): ReportedOutcome['outcome'] {
  return status === codes.applied ? 'applied' : status === codes.failed ? 'failed' : 'applying';
}

/**
 * Where an agent stands with what it should have:
 * - `none`: nothing to have;
 * - `pending`: not yet offered;
 * - `offered`: offered, no report on it yet (or the agent does not report);
 * - `applying`, `applied`, `failed`: as the agent reported for the desired hash;
 * - `rolled-back`: the server gave up on the offer because the agent went back from it;
 * - `not-taken`: offered the maximum number of times to an agent that reports, without it taking it.
 */
export type OfferState = 'none' | 'pending' | 'offered' | 'applying' | 'applied' | 'failed' | 'rolled-back' | 'not-taken';

export function offerState(input: {
  desired: string | undefined;
  reported: ReportedOutcome | undefined;
  offer: OfferRecord | undefined;
  abandoned?: boolean | undefined;
  /** Given for an agent that reports: an exhausted offer then reads `not-taken`. */
  giveUp?: { now: number; policy: ResendPolicy } | undefined;
}): OfferState {
  const { desired, reported, offer, giveUp } = input;
  if (desired === undefined) return 'none';
  if (reported?.hash === desired) return reported.outcome;
  if (offer?.hash !== desired) return 'pending';
  if (input.abandoned) return 'rolled-back';
  if (giveUp && exhausted(offer, giveUp.now, giveUp.policy)) return 'not-taken';
  return 'offered';
}
