// The pure parts of the staged-rollout scenario: which agents the rollout
// targets, the per-poll and per-tick tallies, when the rollout should end, the
// targets it is held to, and its table.
import type { Target } from './scenarios.js';

/** The policy the scenario's assignment carries (as written in the assignment file). */
export const STAGED_POLICY = { steps: [1, 10, 50, 100], bakeSeconds: 300 } as const;
/** Fleet size unless `--agents` says otherwise. */
export const STAGED_DEFAULT_AGENTS = 1000;
/** How often the engine runs: the stack's default schedule (rolloutEvaluationMinutes 1). */
export const TICK_SECONDS = 60;
/** The attribute the staged assignment selects on, and its value for the staged half of the fleet. */
export const GROUP_ATTRIBUTE = 'bench.group';
export const STAGED_GROUP = 'staged';
/** How far the per-poll figures of agents outside the rollout may move from the same fleet without one. */
export const OUTSIDE_TOLERANCE = 0.01;

export type Group = 'outside' | 'inRollout';

/** Every other agent is targeted by the staged assignment; the rest match no assignment, as in `steady`. */
export function groupOf(index: number): Group {
  return index % 2 === 0 ? 'inRollout' : 'outside';
}

/** Counters of metered calls, as taken from the call meter before and after some work. */
export interface Counters {
  ddbReads: number;
  ddbWrites: number;
  rcu: number;
  wcu: number;
  s3Calls: number;
}

export interface Tally extends Counters {
  /** Polls (for a poll tally) or engine runs (for a tick tally). */
  count: number;
  maxReads: number;
  maxWrites: number;
}

export function emptyTally(): Tally {
  return { count: 0, ddbReads: 0, ddbWrites: 0, rcu: 0, wcu: 0, s3Calls: 0, maxReads: 0, maxWrites: 0 };
}

/** Adds the calls made between `before` and `after`, over `count` polls or runs. */
export function addTo(tally: Tally, before: Counters, after: Counters, count = 1): void {
  const reads = after.ddbReads - before.ddbReads;
  const writes = after.ddbWrites - before.ddbWrites;
  tally.count += count;
  tally.ddbReads += reads;
  tally.ddbWrites += writes;
  tally.rcu += after.rcu - before.rcu;
  tally.wcu += after.wcu - before.wcu;
  tally.s3Calls += after.s3Calls - before.s3Calls;
  tally.maxReads = Math.max(tally.maxReads, reads);
  tally.maxWrites = Math.max(tally.maxWrites, writes);
}

export interface PerPoll {
  polls: number;
  ddbReadsPerPoll: number;
  ddbWritesPerPoll: number;
  rcuPerPoll: number;
  wcuPerPoll: number;
  s3CallsPerPoll: number;
}

export interface PerTick {
  ticks: number;
  ddbReadsPerTick: number;
  ddbWritesPerTick: number;
  rcuPerTick: number;
  wcuPerTick: number;
  s3CallsPerTick: number;
  maxReadsPerTick: number;
  maxWritesPerTick: number;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const per = (x: number, n: number) => (n > 0 ? round4(x / n) : 0);

export function perPoll(t: Tally): PerPoll {
  return {
    polls: t.count,
    ddbReadsPerPoll: per(t.ddbReads, t.count),
    ddbWritesPerPoll: per(t.ddbWrites, t.count),
    rcuPerPoll: per(t.rcu, t.count),
    wcuPerPoll: per(t.wcu, t.count),
    s3CallsPerPoll: per(t.s3Calls, t.count),
  };
}

export function perTick(t: Tally): PerTick {
  return {
    ticks: t.count,
    ddbReadsPerTick: per(t.ddbReads, t.count),
    ddbWritesPerTick: per(t.ddbWrites, t.count),
    rcuPerTick: per(t.rcu, t.count),
    wcuPerTick: per(t.wcu, t.count),
    s3CallsPerTick: per(t.s3Calls, t.count),
    maxReadsPerTick: t.maxReads,
    maxWritesPerTick: t.maxWrites,
  };
}

/**
 * The window the rollout should complete in, from the upload. Each step takes
 * at least its bake time; at most also the fleet cache's revalidation, one
 * poll interval for its agents to poll and apply, one engine run to see them
 * good and one more to see the bake over.
 */
export function expectedWindow(steps: number, bakeSeconds: number, pollSeconds: number, tickSeconds: number, revalidateSeconds: number): { minSeconds: number; maxSeconds: number } {
  return { minSeconds: steps * bakeSeconds, maxSeconds: steps * (bakeSeconds + revalidateSeconds + pollSeconds + 2 * tickSeconds) };
}

/** When each step started, in seconds after the upload, from the rollout's timeline. */
export function stepStartSeconds(timeline: ReadonlyArray<{ at: number; event: string }>, uploadMs: number): number[] {
  return timeline.filter((e) => e.event === 'step-started').map((e) => Math.round((e.at - uploadMs) / 1000));
}

export interface StagedRolloutResult {
  scenario: 'staged-rollout';
  agents: number;
  agentsInRollout: number;
  agentsOutside: number;
  pollIntervalSeconds: number;
  tickSeconds: number;
  policy: { steps: number[]; bakeSeconds: number };
  /** The same fleet, heartbeating, before the rollout (the engine running as scheduled, nothing to move). */
  noRollout: { all: PerPoll; outside: PerPoll; inRollout: PerPoll; ticks: PerTick };
  /** From the upload to the engine run that completed the rollout. */
  duringRollout: { all: PerPoll; outside: PerPoll; inRollout: PerPoll; ticks: PerTick };
  /** What the ingest function's engine did right after recording the upload (started the rollout and its first step). */
  ingestStage: { ddbReads: number; ddbWrites: number };
  completedSeconds: number;
  expectedSeconds: { minSeconds: number; maxSeconds: number };
  stepStartedSeconds: number[];
  agentsApplied: number;
  /** Offers of the new configuration per agent in the rollout: the most any one received. */
  maxOffersPerAgent: number;
  engineMetrics: Record<string, number>;
  targets: Target[];
}

export function stagedRolloutTargets(r: Omit<StagedRolloutResult, 'targets'>): Target[] {
  const t = (name: string, limit: string, measured: string, held: boolean): Target => ({ name, limit, measured, held });
  const ref = r.noRollout.outside;
  const now = r.duringRollout.outside;
  const near = (a: number, b: number) => Math.abs(a - b) <= OUTSIDE_TOLERANCE;
  return [
    t('outside the rollout: read calls / poll', `${ref.ddbReadsPerPoll} +- ${OUTSIDE_TOLERANCE}`, String(now.ddbReadsPerPoll), near(now.ddbReadsPerPoll, ref.ddbReadsPerPoll)),
    t('outside the rollout: write calls / poll', `${ref.ddbWritesPerPoll} +- ${OUTSIDE_TOLERANCE}`, String(now.ddbWritesPerPoll), near(now.ddbWritesPerPoll, ref.ddbWritesPerPoll)),
    t('outside the rollout: S3 calls / poll', '0', String(now.s3CallsPerPoll), now.s3CallsPerPoll === 0),
    t(
      'upload to completed (s)',
      `${r.expectedSeconds.minSeconds} to ${r.expectedSeconds.maxSeconds}`,
      String(r.completedSeconds),
      r.completedSeconds >= r.expectedSeconds.minSeconds && r.completedSeconds <= r.expectedSeconds.maxSeconds,
    ),
    t('agents in the rollout that applied it', String(r.agentsInRollout), String(r.agentsApplied), r.agentsApplied === r.agentsInRollout),
    t('offers of the new configuration per agent', '1', String(r.maxOffersPerAgent), r.maxOffersPerAgent === 1),
    t('S3 calls per engine run', '0', String(r.duringRollout.ticks.s3CallsPerTick), r.duringRollout.ticks.s3CallsPerTick === 0),
  ];
}

/** The scenario as table rows: label, then the figures without a rollout and during one. */
export function renderStagedRollout(r: StagedRolloutResult, fmt: (x: number) => string): Array<[string, string, string, string]> {
  const poll = (p: PerPoll) => `${fmt(p.ddbReadsPerPoll)} / ${fmt(p.ddbWritesPerPoll)} / ${fmt(p.s3CallsPerPoll)}`;
  const units = (p: PerPoll) => `${fmt(p.rcuPerPoll)} / ${fmt(p.wcuPerPoll)}`;
  const tick = (t: PerTick) => `${fmt(t.ddbReadsPerTick)} / ${fmt(t.ddbWritesPerTick)} (max ${t.maxReadsPerTick} / ${t.maxWritesPerTick})`;
  return [
    ['', 'agents', 'no rollout', 'during the rollout'],
    ['outside: reads / writes / S3 per poll', String(r.agentsOutside), poll(r.noRollout.outside), poll(r.duringRollout.outside)],
    ['outside: RCU / WCU per poll', '', units(r.noRollout.outside), units(r.duringRollout.outside)],
    ['in the rollout: reads / writes / S3 per poll', String(r.agentsInRollout), poll(r.noRollout.inRollout), poll(r.duringRollout.inRollout)],
    ['in the rollout: RCU / WCU per poll', '', units(r.noRollout.inRollout), units(r.duringRollout.inRollout)],
    ['polls measured (outside / in)', '', `${r.noRollout.outside.polls} / ${r.noRollout.inRollout.polls}`, `${r.duringRollout.outside.polls} / ${r.duringRollout.inRollout.polls}`],
    ['engine runs: reads / writes per run', '', tick(r.noRollout.ticks), tick(r.duringRollout.ticks)],
    [
      'engine runs: RCU / WCU per run',
      '',
      `${fmt(r.noRollout.ticks.rcuPerTick)} / ${fmt(r.noRollout.ticks.wcuPerTick)}`,
      `${fmt(r.duringRollout.ticks.rcuPerTick)} / ${fmt(r.duringRollout.ticks.wcuPerTick)}`,
    ],
    ['engine runs', '', String(r.noRollout.ticks.ticks), String(r.duringRollout.ticks.ticks)],
    ['upload to completed', '', '', `${r.completedSeconds} s (steps at ${r.stepStartedSeconds.join(', ')} s)`],
  ];
}
