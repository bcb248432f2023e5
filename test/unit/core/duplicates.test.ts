import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ComponentHealthSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { duplicateReason, identityOf, observe, startTimeOf } from '../../../functions/core/duplicates.js';
import type { AgentFingerprint, Observation } from '../../../functions/core/duplicates.js';
import { description } from '../../support/messages.js';
import { MINUTE, SECOND, T0 } from './fixtures.js';

const WINDOW = 10 * MINUTE;
const ID_A = 'identity-a';
const ID_B = 'identity-b';

function seen(overrides: Partial<Observation> = {}): Observation {
  return { sequenceNum: 11n, storedSeq: 10n, reset: false, gap: false, now: T0, ...overrides };
}

/** Folds observations into a fingerprint, asking duplicateReason before each, as decidePoll does. */
function replay(steps: Array<Partial<Observation>>, start: AgentFingerprint = {}): { fp: AgentFingerprint; reasons: Array<string | undefined> } {
  let fp = start;
  const reasons: Array<string | undefined> = [];
  for (const step of steps) {
    const o = seen(step);
    const reason = duplicateReason(fp, o, WINDOW);
    reasons.push(reason);
    if (reason === undefined) fp = observe(fp, o, WINDOW);
  }
  return { fp, reasons };
}

describe('identityOf and startTimeOf', () => {
  it('identifies by the identifying attributes only', () => {
    // Prepare
    const a = description({ 'service.name': 'checkout', 'service.instance.id': '1' }, { 'host.name': 'h1' });
    const sameButHost = description({ 'service.name': 'checkout', 'service.instance.id': '1' }, { 'host.name': 'h2' });
    const other = description({ 'service.name': 'checkout', 'service.instance.id': '2' }, { 'host.name': 'h1' });

    // Act / Assess
    expect(identityOf(sameButHost)).toBe(identityOf(a));
    expect(identityOf(other)).not.toBe(identityOf(a));
  });

  it.each<[string, bigint, string | undefined]>([
    ['a start time', 1_700_000_000_000_000_000n, '1700000000000000000'],
    ['none (0)', 0n, undefined],
  ])('reads %s', (_name, startTimeUnixNano, expected) => {
    expect(startTimeOf(create(ComponentHealthSchema, { startTimeUnixNano }))).toBe(expected);
  });
});

describe('duplicateReason', () => {
  describe('start time', () => {
    const restarted: AgentFingerprint = { startTime: 'S2', previousStartTime: 'S1', startTimeChangedAt: T0 };

    it.each<[string, Partial<Observation>, RegExp | undefined]>([
      ['goes back to the earlier process within the window', { startTime: 'S1', now: T0 + WINDOW - 1 }, /start time went back/],
      ['goes back after the window', { startTime: 'S1', now: T0 + WINDOW }, undefined],
      ['stays with the new process', { startTime: 'S2', now: T0 + MINUTE }, undefined],
      ['moves on to a third process (a restart)', { startTime: 'S3', now: T0 + MINUTE }, undefined],
      ['is not reported', { now: T0 + MINUTE }, undefined],
    ])('%s', (_name, o, expected) => {
      // Act
      const reason = duplicateReason(restarted, seen(o), WINDOW);

      // Assess
      if (expected) expect(reason).toMatch(expected);
      else expect(reason).toBeUndefined();
    });
  });

  describe('identifying attributes', () => {
    it('one flip back (an upgrade rolled back) is no split; flipping again is', () => {
      // Act: A, upgrade to B, rolled back to A, then B again: two agents taking turns.
      const { reasons } = replay([
        { identity: ID_A, now: T0 },
        { identity: ID_B, now: T0 + MINUTE },
        { identity: ID_A, now: T0 + 2 * MINUTE },
        { identity: ID_B, now: T0 + 3 * MINUTE },
      ]);

      // Assess
      expect(reasons.slice(0, 3)).toEqual([undefined, undefined, undefined]);
      expect(reasons[3]).toMatch(/identifying attributes keep flipping/);
    });

    it('an upgrade and a later upgrade to a third identity are no split', () => {
      // Act
      const { reasons } = replay([
        { identity: ID_A, now: T0 },
        { identity: ID_B, now: T0 + MINUTE },
        { identity: 'identity-c', now: T0 + 2 * MINUTE },
        { identity: ID_B, now: T0 + 3 * MINUTE },
      ]);

      // Assess
      expect(reasons).toEqual([undefined, undefined, undefined, undefined]);
    });

    it('flips spread wider than the window are no split', () => {
      // Act
      const { reasons } = replay([
        { identity: ID_A, now: T0 },
        { identity: ID_B, now: T0 + MINUTE },
        { identity: ID_A, now: T0 + 2 * MINUTE },
        { identity: ID_B, now: T0 + 2 * MINUTE + WINDOW },
      ]);

      // Assess
      expect(reasons).toEqual([undefined, undefined, undefined, undefined]);
    });
  });

  describe('sequence numbers', () => {
    const afterReset: AgentFingerprint = { lastResetAt: T0, preResetSeq: '50' };

    it.each<[string, Partial<Observation>, RegExp | undefined]>([
      ['the new counter counts on (next)', { sequenceNum: 1n, storedSeq: 0n, now: T0 + 30 * SECOND }, undefined],
      ['the new counter skips a little (ahead)', { sequenceNum: 3n, storedSeq: 0n, now: T0 + 60 * SECOND }, undefined],
      ['a gap that stays below the pre-reset counter', { sequenceNum: 50n, storedSeq: 0n, gap: true, now: T0 + 30 * SECOND }, undefined],
      ['a gap past the pre-reset counter within the window', { sequenceNum: 51n, storedSeq: 0n, gap: true, now: T0 + 30 * SECOND }, /two sequence counters interleave/],
      ['a gap past the pre-reset counter after the window', { sequenceNum: 51n, storedSeq: 0n, gap: true, now: T0 + WINDOW }, undefined],
    ])('after a reset: %s', (_name, o, expected) => {
      // Act
      const reason = duplicateReason(afterReset, seen(o), WINDOW);

      // Assess
      if (expected) expect(reason).toMatch(expected);
      else expect(reason).toBeUndefined();
    });

    it('a gap without an earlier reset is no split', () => {
      expect(duplicateReason({}, seen({ sequenceNum: 1_000n, gap: true }), WINDOW)).toBeUndefined();
    });
  });
});

describe('observe', () => {
  it('remembers the previous start time and when it changed; the first one only as current', () => {
    // Act
    const first = observe({}, seen({ startTime: 'S1', now: T0 }), WINDOW);
    const second = observe(first, seen({ startTime: 'S2', now: T0 + MINUTE }), WINDOW);
    const same = observe(second, seen({ startTime: 'S2', now: T0 + 2 * MINUTE }), WINDOW);

    // Assess
    expect(first).toEqual({ startTime: 'S1' });
    expect(second).toEqual({ startTime: 'S2', previousStartTime: 'S1', startTimeChangedAt: T0 + MINUTE });
    expect(same).toEqual(second);
  });

  it('records a reset with the counter it replaced, and only a reset', () => {
    // Act
    const reset = observe({}, seen({ sequenceNum: 0n, storedSeq: 42n, reset: true, now: T0 }), WINDOW);
    const next = observe(reset, seen({ sequenceNum: 1n, storedSeq: 0n, now: T0 + SECOND }), WINDOW);

    // Assess
    expect(reset).toEqual({ lastResetAt: T0, preResetSeq: '42' });
    expect(next).toEqual(reset);
  });

  it('counts flips back only within the window, and starts over after a new identity', () => {
    // Act
    const { fp: flipped } = replay([
      { identity: ID_A, now: T0 },
      { identity: ID_B, now: T0 + MINUTE },
      { identity: ID_A, now: T0 + 2 * MINUTE },
    ]);
    const { fp: late } = replay([
      { identity: ID_A, now: T0 },
      { identity: ID_B, now: T0 + MINUTE },
      { identity: ID_A, now: T0 + MINUTE + WINDOW },
    ]);

    // Assess
    expect(flipped).toEqual({ identity: ID_A, previousIdentity: ID_B, identityChangedAt: T0 + 2 * MINUTE, identityFlips: 1 });
    expect(late.identityFlips).toBe(0);
  });

  it('does not change the fingerprint it was given', () => {
    // Prepare
    const fp: AgentFingerprint = { identity: ID_A, startTime: 'S1' };
    const copy = structuredClone(fp);

    // Act
    observe(fp, seen({ identity: ID_B, startTime: 'S2', reset: true }), WINDOW);

    // Assess
    expect(fp).toEqual(copy);
  });
});
