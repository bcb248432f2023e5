import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { classifySequence, explainJump, MIN_CADENCE_MS, overtaken, shouldLogNoisy } from '../../../functions/core/sequence.js';
import type { SequenceVerdict } from '../../../functions/core/sequence.js';
import { AGENT_UID_TEXT, SECOND, T0 } from './fixtures.js';

const MIN_POLL = 15 * SECOND;

function record(sequenceNum: bigint, lastMessageDigest: string, lastSeenAt: number): AgentRecord {
  return {
    instanceUid: AGENT_UID_TEXT,
    version: 4,
    sequenceNum,
    lastMessageDigest,
    capabilities: 1n,
    firstSeenAt: T0 - 60 * SECOND,
    lastSeenAt,
    attributes: {},
    sections: {},
    sectionIds: {},
    expiresAt: 0,
  };
}

describe('classifySequence', () => {
  it('calls a message from an agent without a record first', () => {
    // Act
    const verdict = classifySequence(undefined, 42n, 'd', T0, MIN_POLL);

    // Assess
    expect(verdict).toBe('first');
  });

  // Stored: sequence 10, digest "d10", last written at T0.
  it.each<[string, bigint, string, number, SequenceVerdict]>([
    ['one more than stored', 11n, 'other', T0, 'next'],
    ['one more than stored, even with the stored digest', 11n, 'd10', T0, 'next'],
    ['the stored number with the stored digest', 10n, 'd10', T0 + 5 * SECOND, 'duplicate'],
    ['the stored number with another digest', 10n, 'other', T0 + 5 * SECOND, 'reset'],
    ['a lower number', 9n, 'other', T0 + 5 * SECOND, 'reset'],
    ['zero', 0n, 'd10', T0 + 5 * SECOND, 'reset'],
    ['one skipped with no time elapsed', 12n, 'x', T0, 'gap'],
    ['one skipped just before one poll interval', 12n, 'x', T0 + MIN_POLL - 1, 'gap'],
    ['one skipped after one poll interval', 12n, 'x', T0 + MIN_POLL, 'ahead'],
    ['two skipped after one poll interval', 13n, 'x', T0 + MIN_POLL, 'gap'],
    ['two skipped after two poll intervals', 13n, 'x', T0 + 2 * MIN_POLL, 'ahead'],
    ['one skipped with the clock behind last-seen', 12n, 'x', T0 - 60 * SECOND, 'gap'],
    ['the largest uint64', 2n ** 64n - 1n, 'x', T0 + 3_600 * SECOND, 'gap'],
  ])('classifies %s (seq %s) as %s', (_name, seq, digest, now, expected) => {
    // Prepare
    const stored = record(10n, 'd10', T0);

    // Act
    const verdict = classifySequence(stored, seq, digest, now, MIN_POLL);

    // Assess
    expect(verdict).toBe(expected);
  });

  it('treats a poll interval of 0 as 1 ms instead of dividing by zero', () => {
    // Prepare
    const stored = record(10n, 'd10', T0);

    // Act
    const verdicts = [classifySequence(stored, 12n, 'x', T0, 0), classifySequence(stored, 12n, 'x', T0 + 1, 0)];

    // Assess
    expect(verdicts).toEqual(['gap', 'ahead']);
  });
});

describe('explainJump', () => {
  it('keeps a one-off jump a gap and remembers the interval it implies', () => {
    // Prepare: stored seq 10 written at T0; 4 more messages in 8 s imply 2 s polls.
    const stored = record(10n, 'd10', T0);

    // Act
    const explained = explainJump(stored, 14n, T0 + 8 * SECOND, 'gap');

    // Assess
    expect(explained).toEqual({ verdict: 'gap', candidateMs: 2_000 });
  });

  it('learns the cadence when the next jump implies the same interval, with room for jitter', () => {
    // Prepare
    const stored: AgentRecord = { ...record(10n, 'd10', T0), cadenceCandidateMs: 2_000 };

    // Act: 5 messages in 9 s (1.8 s each).
    const explained = explainJump(stored, 15n, T0 + 9 * SECOND, 'gap');

    // Assess
    expect(explained).toEqual({ verdict: 'ahead', cadenceMs: 1_350 });
  });

  it('does not confirm a candidate with a jump implying a much faster cadence', () => {
    // Prepare
    const stored: AgentRecord = { ...record(10n, 'd10', T0), cadenceCandidateMs: 10_000 };

    // Act: 10 messages in 30 s (3 s each).
    const explained = explainJump(stored, 20n, T0 + 30 * SECOND, 'gap');

    // Assess
    expect(explained).toEqual({ verdict: 'gap', candidateMs: 3_000 });
  });

  it('never learns a cadence faster than MIN_CADENCE_MS', () => {
    // Prepare
    const stored: AgentRecord = { ...record(10n, 'd10', T0), cadenceCandidateMs: 100 };

    // Act: 100 messages in 10 s.
    const explained = explainJump(stored, 110n, T0 + 10 * SECOND, 'gap');

    // Assess
    expect(explained).toEqual({ verdict: 'gap' });
    expect(MIN_CADENCE_MS).toBeGreaterThan(100);
  });

  it('leaves every other verdict alone', () => {
    // Prepare
    const stored: AgentRecord = { ...record(10n, 'd10', T0), cadenceCandidateMs: 2_000 };

    // Act
    const verdicts = (['next', 'ahead', 'reset', 'duplicate'] as const).map((v) => explainJump(stored, 14n, T0 + 8 * SECOND, v));

    // Assess
    expect(verdicts.map((v) => Object.keys(v))).toEqual([['verdict'], ['verdict'], ['verdict'], ['verdict']]);
  });

  it('uses a learned cadence as the allowance', () => {
    // Prepare: cadence 1.5 s; 5 skipped in 9 s fit (6 heartbeats).
    const stored: AgentRecord = { ...record(10n, 'd10', T0), pollCadenceMs: 1_500 };

    // Act
    const verdict = classifySequence(stored, 16n, 'x', T0 + 9 * SECOND, stored.pollCadenceMs!);

    // Assess
    expect(verdict).toBe('ahead');
  });
});

describe('shouldLogNoisy', () => {
  it.each<[string, number | undefined, number, boolean]>([
    ['never logged', undefined, T0, true],
    ['logged just now', T0, T0, false],
    ['logged just inside the window', T0, T0 + 10 * 60 * SECOND - 1, false],
    ['logged a window ago', T0, T0 + 10 * 60 * SECOND, true],
    ['logged in the future (clock moved back)', T0 + SECOND, T0, true],
  ])('%s: %s', (_name, loggedAt, now, expected) => {
    // Prepare
    const stored: AgentRecord = { ...record(10n, 'd10', T0), ...(loggedAt !== undefined ? { noisyEventLoggedAt: loggedAt } : {}) };

    // Act
    const log = shouldLogNoisy(stored, now, 10 * 60 * SECOND);

    // Assess
    expect(log).toBe(expected);
  });
});

describe('overtaken', () => {
  // Stored: sequence 10, digest "d10", written at T0.
  it.each<[string, bigint | undefined, bigint, string, number, boolean]>([
    ['a lower number, the record written after the message arrived', 10n, 9n, 'other', T0 - 1, true],
    ['a lower number, the record first read behind it (written during the poll)', 8n, 9n, 'other', T0 + SECOND, true],
    ['a lower number, no record when the poll first read', undefined, 9n, 'other', T0 + SECOND, true],
    ['a lower number arriving after the record was written (a restart)', 10n, 9n, 'other', T0 + SECOND, false],
    ['the stored message again (a retry)', 9n, 10n, 'd10', T0 - 1, false],
    ['a higher number', 10n, 11n, 'other', T0 - 1, false],
  ])('%s', (_name, firstStored, sequenceNum, digest, arrivedAt, expected) => {
    // Act
    const result = overtaken(record(10n, 'd10', T0), firstStored, sequenceNum, digest, arrivedAt);

    // Assess
    expect(result).toBe(expected);
  });
});
