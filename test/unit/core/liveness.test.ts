import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { deriveLiveness } from '../../../functions/core/liveness.js';
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
