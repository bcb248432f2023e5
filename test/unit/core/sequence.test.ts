import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { classifySequence } from '../../../functions/core/sequence.js';
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
