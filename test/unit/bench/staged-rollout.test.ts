import { describe, expect, it } from 'vitest';
import {
  addTo,
  emptyTally,
  expectedWindow,
  groupOf,
  OUTSIDE_TOLERANCE,
  perPoll,
  perTick,
  renderStagedRollout,
  stagedRolloutTargets,
  stepStartSeconds,
} from '../../../scripts/bench/staged-rollout-figures.js';
import type { Counters, PerPoll, StagedRolloutResult } from '../../../scripts/bench/staged-rollout-figures.js';

const counters = (ddbReads: number, ddbWrites: number, rcu = ddbReads, wcu = ddbWrites, s3Calls = 0): Counters => ({ ddbReads, ddbWrites, rcu, wcu, s3Calls });
const poll = (reads: number, writes: number, polls = 1000): PerPoll => ({ polls, ddbReadsPerPoll: reads, ddbWritesPerPoll: writes, rcuPerPoll: reads, wcuPerPoll: writes, s3CallsPerPoll: 0 });

/** A run whose figures all meet their targets, to vary one at a time. */
function run(overrides: Partial<Omit<StagedRolloutResult, 'targets'>> = {}): Omit<StagedRolloutResult, 'targets'> {
  const ticks = perTick(emptyTally());
  return {
    scenario: 'staged-rollout',
    agents: 1000,
    agentsInRollout: 500,
    agentsOutside: 500,
    pollIntervalSeconds: 30,
    tickSeconds: 60,
    policy: { steps: [1, 10, 50, 100], bakeSeconds: 300 },
    noRollout: { all: poll(1, 0.001), outside: poll(1, 0.001), inRollout: poll(1, 0.001), ticks },
    duringRollout: { all: poll(1, 0.02), outside: poll(1.0003, 0.001), inRollout: poll(1.004, 0.04), ticks },
    ingestStage: { ddbReads: 4, ddbWrites: 2 },
    completedSeconds: 1410,
    expectedSeconds: expectedWindow(4, 300, 30, 60, 10),
    stepStartedSeconds: [0, 330, 690, 1050],
    agentsApplied: 500,
    maxOffersPerAgent: 1,
    engineMetrics: {},
    ...overrides,
  };
}

const held = (r: Omit<StagedRolloutResult, 'targets'>) => Object.fromEntries(stagedRolloutTargets(r).map((t) => [t.name, t.held]));

describe('the staged-rollout figures', () => {
  it('puts every other agent in the rollout', () => {
    expect([0, 1, 2, 3].map(groupOf)).toEqual(['inRollout', 'outside', 'inRollout', 'outside']);
  });

  it('tallies the calls between two meter readings, per poll and per engine run, with the largest run', () => {
    const tally = emptyTally();

    addTo(tally, counters(10, 2), counters(13, 2), 3); // one exchange of three polls
    addTo(tally, counters(13, 2), counters(14, 4, 15, 6, 1));

    expect(perPoll(tally)).toEqual({ polls: 4, ddbReadsPerPoll: 1, ddbWritesPerPoll: 0.5, rcuPerPoll: 1.25, wcuPerPoll: 1, s3CallsPerPoll: 0.25 });
    expect(perTick(tally)).toMatchObject({ ticks: 4, ddbReadsPerTick: 1, maxReadsPerTick: 3, maxWritesPerTick: 2 });
    expect(perPoll(emptyTally()).ddbReadsPerPoll).toBe(0);
  });

  it('expects each step to take its bake time, plus at most a cache revalidation, a poll interval and two engine runs', () => {
    expect(expectedWindow(4, 300, 30, 60, 10)).toEqual({ minSeconds: 1200, maxSeconds: 4 * (300 + 10 + 30 + 120) });
  });

  it('reads the step start times off the rollout timeline, in seconds after the upload', () => {
    const upload = 1_000_000;
    const timeline = [
      { at: upload, event: 'created' },
      { at: upload + 400, event: 'step-started' },
      { at: upload + 330_000, event: 'step-good' },
      { at: upload + 330_000, event: 'step-started' },
      { at: upload + 700_000, event: 'completed' },
    ];

    expect(stepStartSeconds(timeline, upload)).toEqual([0, 330]);
  });

  it('holds every target on a run that meets them', () => {
    expect(Object.values(held(run())).every(Boolean)).toBe(true);
  });

  it('does not hold when agents outside the rollout pay more per poll than without one', () => {
    const dearer = run({ duringRollout: { ...run().duringRollout, outside: poll(1 + 2 * OUTSIDE_TOLERANCE, 0.001) } });
    const writing = run({ duringRollout: { ...run().duringRollout, outside: poll(1, 0.001 + 2 * OUTSIDE_TOLERANCE) } });

    expect(held(dearer)['outside the rollout: read calls / poll']).toBe(false);
    expect(held(writing)['outside the rollout: write calls / poll']).toBe(false);
    expect(held(writing)['outside the rollout: read calls / poll']).toBe(true);
  });

  it('does not hold when the rollout ends outside its window, misses agents or offers one twice', () => {
    expect(held(run({ completedSeconds: 1199 }))['upload to completed (s)']).toBe(false);
    expect(held(run({ completedSeconds: 5000 }))['upload to completed (s)']).toBe(false);
    expect(held(run({ agentsApplied: 499 }))['agents in the rollout that applied it']).toBe(false);
    expect(held(run({ maxOffersPerAgent: 2 }))['offers of the new configuration per agent']).toBe(false);
  });

  it('renders one row per figure, the no-rollout column beside the rollout one', () => {
    const rows = renderStagedRollout({ ...run(), targets: [] }, String);

    expect(rows[0]).toEqual(['', 'agents', 'no rollout', 'during the rollout']);
    expect(rows.find((r) => r[0].startsWith('outside: reads'))).toEqual(['outside: reads / writes / S3 per poll', '500', '1 / 0.001 / 0', '1.0003 / 0.001 / 0']);
    expect(rows.at(-1)![3]).toBe('1410 s (steps at 0, 330, 690, 1050 s)');
  });
});
