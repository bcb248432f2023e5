import { describe, expect, it } from 'vitest';
import { exhausted, nextOffer, offerDue, offerState, outcomeOf } from '../../../functions/core/offer-tracker.js';
import type { OfferDueInput, OfferRecord } from '../../../functions/core/offer-tracker.js';
import { MINUTE, T0 } from './fixtures.js';

const POLICY = { resendAfterMs: 5 * MINUTE, maxAttempts: 3 };
const offered = (overrides: Partial<OfferRecord> = {}): OfferRecord => ({ hash: 'h1', offeredAt: T0, offeredSeq: 1n, attempts: 1, ...overrides });
const due = (overrides: Partial<OfferDueInput>): boolean => offerDue({ desired: 'h1', has: false, offer: offered(), reports: true, now: T0 + POLICY.resendAfterMs, policy: POLICY, ...overrides });

describe('nextOffer', () => {
  it('counts replies that carry the same hash, and starts over for another', () => {
    // Act
    const first = nextOffer(undefined, 'h1', T0, 1n);
    const again = nextOffer(first, 'h1', T0 + MINUTE, 2n);
    const other = nextOffer(again, 'h2', T0 + 2 * MINUTE, 3n);

    // Assert
    expect(first).toEqual({ hash: 'h1', offeredAt: T0, offeredSeq: 1n, attempts: 1 });
    expect(again).toEqual({ hash: 'h1', offeredAt: T0 + MINUTE, offeredSeq: 2n, attempts: 2 });
    expect(other).toEqual({ hash: 'h2', offeredAt: T0 + 2 * MINUTE, offeredSeq: 3n, attempts: 1 });
  });
});

describe('offerDue', () => {
  it.each<[string, Partial<OfferDueInput>, boolean]>([
    ['a hash never offered', { offer: undefined }, true],
    ['a hash other than the one offered', { offer: offered({ hash: 'h0', attempts: 3 }) }, true],
    ['what the agent has already', { offer: undefined, has: true }, false],
    ['the offered hash once the quiet period passed', {}, true],
    ['the offered hash within the quiet period', { now: T0 + POLICY.resendAfterMs - 1 }, false],
    ['the offered hash after the last attempt', { offer: offered({ attempts: 3 }) }, false],
    ['the offered hash to an agent that does not report', { reports: false }, false],
    ['an offer the server gave up on', { abandoned: true }, false],
  ])('offers %s: %s', (_name, overrides, expected) => {
    // Act
    const result = due(overrides);

    // Assert
    expect(result).toBe(expected);
  });
});

describe('exhausted', () => {
  it('holds after the last attempt only once its quiet period passed', () => {
    // Assert
    expect(exhausted(offered({ attempts: 3 }), T0 + POLICY.resendAfterMs - 1, POLICY)).toBe(false);
    expect(exhausted(offered({ attempts: 3 }), T0 + POLICY.resendAfterMs, POLICY)).toBe(true);
    expect(exhausted(offered({ attempts: 2 }), T0 + 10 * POLICY.resendAfterMs, POLICY)).toBe(false);
  });
});

describe('offerState', () => {
  const giveUp = { now: T0 + POLICY.resendAfterMs, policy: POLICY };
  it.each<[string, Parameters<typeof offerState>[0], string]>([
    ['nothing desired', { desired: undefined, reported: undefined, offer: offered() }, 'none'],
    ['not offered yet', { desired: 'h2', reported: undefined, offer: offered() }, 'pending'],
    ['offered, no report', { desired: 'h1', reported: undefined, offer: offered() }, 'offered'],
    ['reported applying', { desired: 'h1', reported: { hash: 'h1', outcome: 'applying' }, offer: offered() }, 'applying'],
    ['reported applied without an offer on record', { desired: 'h1', reported: { hash: 'h1', outcome: 'applied' }, offer: undefined }, 'applied'],
    ['reported failed', { desired: 'h1', reported: { hash: 'h1', outcome: 'failed' }, offer: offered() }, 'failed'],
    ['a report on another hash', { desired: 'h1', reported: { hash: 'h0', outcome: 'applied' }, offer: offered() }, 'offered'],
    ['abandoned', { desired: 'h1', reported: undefined, offer: offered(), abandoned: true }, 'rolled-back'],
    ['exhausted, to an agent that reports', { desired: 'h1', reported: undefined, offer: offered({ attempts: 3 }), giveUp }, 'not-taken'],
    ['exhausted, to an agent that does not report', { desired: 'h1', reported: undefined, offer: offered({ attempts: 3 }) }, 'offered'],
  ])('is right for %s', (_name, input, expected) => {
    // Act
    const state = offerState(input);

    // Assert
    expect(state).toBe(expected);
  });
});

describe('outcomeOf', () => {
  it('reads the applied and failed codes, anything else as applying', () => {
    // Assert
    expect([1, 2, 3, 0].map((status) => outcomeOf(status, { applied: 1, failed: 3 }))).toEqual(['applied', 'applying', 'failed', 'applying']);
  });
});
