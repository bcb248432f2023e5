import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import type { PollDecision, PollEvent } from '../../../functions/core/poll-types.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { fullReport } from '../../support/messages.js';
import { AGENT_UID, MINUTE, OPTIONS, SECOND, T0, asksFullState, hb, knownAgent, poll, storedAfter } from './fixtures.js';

/** Events that reach the log: those not marked quiet. */
function logged(decision: PollDecision): PollEvent[] {
  return decision.events.filter((e) => (e === 'sequence-gap' || e === 'sequence-reset') && !decision.quietEvents?.includes(e));
}

/**
 * An agent that polls every `intervalMs` (heartbeats), answering a full-state
 * request at once with a full report, as the opamp-go client does. Returns the
 * tallies of the last `measureMs` of `durationMs`.
 */
function simulate(intervalMs: number, durationMs: number, measureMs: number) {
  let record: AgentRecord | undefined = knownAgent(1n, T0);
  let seq = 1n;
  const tally = { polls: 0, writes: 0, fullStateRequests: 0, gaps: 0, loggedEvents: 0 };
  const send = (message: AgentToServer, now: number, measured: boolean): PollDecision => {
    const decision = poll(message, { record, now });
    if (decision.records.length > 0) record = storedAfter(decision);
    if (measured) {
      tally.polls++;
      tally.writes += decision.records.length;
      if (asksFullState(decision.reply)) tally.fullStateRequests++;
      if (decision.events.includes('sequence-gap')) tally.gaps++;
      tally.loggedEvents += logged(decision).length;
    }
    return decision;
  };
  for (let now = T0 + intervalMs; now <= T0 + durationMs; now += intervalMs) {
    const measured = now > T0 + durationMs - measureMs;
    const decision = send(hb(++seq), now, measured);
    if (asksFullState(decision.reply)) send(fullReport(AGENT_UID, ++seq), now, measured);
  }
  return { tally, record: record! };
}

describe('agents polling faster than the configured minimum', () => {
  it.each([2 * SECOND, 10 * SECOND])('settles at every %i ms: no gaps, no full-state requests, no log lines, only the last-seen refreshes written', (interval) => {
    // Act: an hour of polling; the last 50 minutes measured.
    const { tally, record } = simulate(interval, 60 * MINUTE, 50 * MINUTE);

    // Assess
    expect(tally.gaps).toBe(0);
    expect(tally.fullStateRequests).toBe(0);
    expect(tally.loggedEvents).toBe(0);
    // One write per last-seen refresh window (5 minutes), and nothing else.
    expect(tally.writes).toBeLessThanOrEqual(Math.ceil((50 * MINUTE) / OPTIONS.lastSeenRefreshMs));
    expect(record.pollCadenceMs).toBeLessThan(interval);
    expect(record.pollCadenceMs).toBeGreaterThanOrEqual(interval / 2);
  });

  it('learns the cadence after at most two full-state requests and then stops asking', () => {
    // Act: the first ten minutes at 2 s.
    const { tally } = simulate(2 * SECOND, 10 * MINUTE, 10 * MINUTE);

    // Assess
    expect(tally.fullStateRequests).toBeLessThanOrEqual(2);
    expect(tally.loggedEvents).toBeLessThanOrEqual(1);
  });

  it('still calls a one-off jump a gap and asks for the full state', () => {
    // Prepare: stored seq 10, written at T0; a jump of 20 after 30 s implies 1.5 s polls, never seen before.
    const stored = knownAgent(10n, T0);

    // Act
    const decision = poll(hb(30n), { record: stored, now: T0 + 30 * SECOND });

    // Assess
    expect(decision.events).toContain('sequence-gap');
    expect(asksFullState(decision.reply)).toBe(true);
  });

  it('calls a jump a gap when it is faster than the cadence the agent showed', () => {
    // Prepare: an agent known to poll every 10 s (cadence 7.5 s).
    const stored: AgentRecord = { ...knownAgent(10n, T0), pollCadenceMs: 7_500 };

    // Act: 10 messages in 30 s.
    const decision = poll(hb(21n), { record: stored, now: T0 + 30 * SECOND });

    // Assess
    expect(decision.events).toContain('sequence-gap');
    expect(asksFullState(decision.reply)).toBe(true);
  });
});

describe('full-state retry throttle', () => {
  it('asks for the full state on a real gap a few seconds after a new agent answered the first request', () => {
    // Prepare: a new agent is asked for its full state and sends it.
    const first = poll(hb(1n), { now: T0 });
    expect(asksFullState(first.reply)).toBe(true);
    const answered = storedAfter(poll(fullReport(AGENT_UID, 2n), { record: storedAfter(first), now: T0 + 1 * SECOND }));

    // Act: 10 messages lost, 5 s later.
    const decision = poll(hb(13n), { record: answered, now: T0 + 6 * SECOND });

    // Assess
    expect(decision.events).toContain('sequence-gap');
    expect(asksFullState(decision.reply)).toBe(true);
  });

  it('clears the outstanding request once a full report arrives, even when it is not the very next message', () => {
    // Prepare: a gap asked for the full state at seq 15.
    const asked = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));
    expect(asked.fullStateRequestedAt).toBeDefined();

    // Act
    const decision = poll(fullReport(AGENT_UID, 17n), { record: asked, now: T0 + 45 * SECOND });

    // Assess
    const stored = storedAfter(decision);
    expect(stored.fullStateRequestedAt).toBeUndefined();
    expect(stored.fullStateRequestedSeq).toBeUndefined();
  });

  it('still holds while the request is unanswered', () => {
    // Prepare: asked at seq 15; the answer never came (seq 16 is missing).
    const asked = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

    // Act
    const decision = poll(hb(400n), { record: asked, now: T0 + 2 * MINUTE });

    // Assess
    expect(decision.events).toContain('sequence-gap');
    expect(asksFullState(decision.reply)).toBe(false);
  });
});

describe('gap and reset log rate', () => {
  it('logs the first gap, counts the next ones within the window quietly, and logs again after it', () => {
    // Prepare: an unanswered request, so that further gaps are not asked about again.
    const asked = poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND });
    const afterFirst = storedAfter(asked);

    // Act
    const within = poll(hb(400n), { record: afterFirst, now: T0 + 2 * MINUTE });
    const endOfWindow = poll(hb(400n), { record: afterFirst, now: T0 + 30 * SECOND + OPTIONS.noisyEventLogWindowMs - 1 });
    const after = poll(hb(400n), { record: afterFirst, now: T0 + 30 * SECOND + OPTIONS.noisyEventLogWindowMs });

    // Assess
    expect(logged(asked)).toEqual(['sequence-gap']);
    expect(within.events).toContain('sequence-gap');
    expect(logged(within)).toEqual([]);
    expect(within.records).toEqual([]);
    expect(logged(endOfWindow)).toEqual([]);
    expect(logged(after)).toEqual(['sequence-gap']);
    expect(storedAfter(after).noisyEventLoggedAt).toBe(T0 + 30 * SECOND + OPTIONS.noisyEventLogWindowMs);
  });

  it('logs one reset per window for an agent that resets its counter on every poll', () => {
    // Prepare
    let record = knownAgent(10n, T0);
    const lines: PollEvent[] = [];

    // Act: a reset every 10 s for 20 minutes.
    for (let i = 1; i <= 120; i++) {
      const decision = poll(hb(0n), { record, now: T0 + i * 10 * SECOND, digest: `body-${i}` });
      lines.push(...logged(decision));
      if (decision.records.length > 0) record = storedAfter(decision);
    }

    // Assess
    expect(lines).toEqual(['sequence-reset', 'sequence-reset']);
  });
});
