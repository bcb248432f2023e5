import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { deriveLiveness, lastSeenAt, pollIntervalMs } from '../../../functions/core/liveness.js';
import type { Liveness, LivenessPolicy } from '../../../functions/core/liveness.js';
import { AGENT_UID_TEXT, MINUTE, SECOND, T0 } from './fixtures.js';

// Allowed silence: 1 min presence window + 3 × 30 s missed polls = 2.5 min.
const POLICY: LivenessPolicy = { presenceWindowMs: MINUTE, expectedPollIntervalMs: 30 * SECOND, missedPollsBeforeStale: 3 };
const ALLOWED = MINUTE + 90 * SECOND;

function record(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    instanceUid: AGENT_UID_TEXT,
    version: 1,
    sequenceNum: 1n,
    lastMessageDigest: '',
    capabilities: 1n,
    firstSeenAt: T0,
    lastSeenAt: T0,
    attributes: {},
    sections: {},
    sectionIds: {},
    expiresAt: 0,
    ...overrides,
  };
}

describe('deriveLiveness', () => {
  it.each<[string, number, Liveness]>([
    ['just seen', 0, 'online'],
    ['silent exactly as long as allowed', ALLOWED, 'online'],
    ['silent 1 ms longer than allowed', ALLOWED + 1, 'stale'],
    ['silent for a day', 24 * 60 * MINUTE, 'stale'],
    ['seen "in the future" (clock skew)', -MINUTE, 'online'],
  ])('an agent %s is %s', (_name, silence, expected) => {
    // Prepare
    const agent = record();

    // Act
    const liveness = deriveLiveness(agent, T0 + silence, POLICY);

    // Assess
    expect(liveness).toBe(expected);
  });

  it.each([0, ALLOWED + 1])('an agent that said goodbye is disconnected %i ms later, whatever its silence', (silence) => {
    // Prepare
    const agent = record({ disconnectedAt: T0 });

    // Act
    const liveness = deriveLiveness(agent, T0 + silence, POLICY);

    // Assess
    expect(liveness).toBe('disconnected');
  });
});

describe('deriveLiveness with presence batches', () => {
  it('takes the newest of the record and the presence sighting', () => {
    // Prepare: the record was last written long ago; the batches saw the agent a minute ago.
    const agent = record();
    const now = T0 + 60 * MINUTE;

    // Act
    const withSighting = deriveLiveness(agent, now, POLICY, { seenAt: now - MINUTE, intervalSeconds: 30 });
    const without = deriveLiveness(agent, now, POLICY);

    // Assess
    expect(withSighting).toBe('online');
    expect(lastSeenAt(agent, { seenAt: now - MINUTE, intervalSeconds: 30 })).toBe(now - MINUTE);
    expect(without).toBe('stale');
  });

  it('judges silence against the interval the sighting carries, before the record and the expected one', () => {
    // Prepare: steered to 60 s on the record, but seen polling every 300 s.
    const agent = record({ heartbeatSeconds: 60 });
    const sighting = { seenAt: T0, intervalSeconds: 300 };

    // Act / Assess: allowed is one window plus three of the sighting's intervals.
    expect(pollIntervalMs(agent, POLICY, sighting)).toBe(300 * SECOND);
    expect(deriveLiveness(agent, T0 + MINUTE + 900 * SECOND, POLICY, sighting)).toBe('online');
    expect(deriveLiveness(agent, T0 + MINUTE + 900 * SECOND + 1, POLICY, sighting)).toBe('stale');
    expect(pollIntervalMs(agent, POLICY, { seenAt: T0, intervalSeconds: 0 })).toBe(60 * SECOND);
    expect(pollIntervalMs(record(), POLICY)).toBe(30 * SECOND);
  });
});
