// The staged-rollout scenario: half the fleet is targeted by an assignment
// with a rollout policy, the other half by nothing (as in `steady`). After a
// reference phase without a rollout, a new configuration is uploaded and the
// rollout engine runs every simulated minute, as the stack's schedule runs it,
// until the rollout completes. Polls are metered per group, engine runs apart.
import { createRolloutEngine } from '../../functions/entry/rollouts.js';
import { createStores } from '../../functions/entry/stores.js';
import type { Rollout } from '../../functions/core/rollouts/rollout.js';
import type { Telemetry } from '../../functions/observability/telemetry.js';
import { PresenceReader } from '../../functions/service/presence-reader.js';
import { stageChanges } from '../../functions/service/rollouts/rollout-engine.js';
import type { RolloutEngine } from '../../functions/service/rollouts/rollout-engine.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { collectorYaml, SimAgent } from './agents.js';
import { createInstance } from './harness.js';
import type { Endpoints } from './harness.js';
import type { LogMeter } from './meter.js';
import { exchange, POLL_INTERVAL_MS, publishConfig, START_MS } from './scenarios.js';
import type { Recorder } from './scenarios.js';
import {
  addTo,
  emptyTally,
  expectedWindow,
  GROUP_ATTRIBUTE,
  groupOf,
  perPoll,
  perTick,
  STAGED_GROUP,
  STAGED_POLICY,
  stagedRolloutTargets,
  stepStartSeconds,
  TICK_SECONDS,
} from './staged-rollout-figures.js';
import type { Counters, Group, StagedRolloutResult, Tally } from './staged-rollout-figures.js';

export interface StagedRolloutOptions {
  agents: number;
  endpoints: Endpoints;
  logs: LogMeter;
  auth: 'token' | 'none';
  progress: (line: string) => void;
}

const REFERENCE_ROUNDS = 20;
const CONFIG_KEY = 'configs/staged/collector.yaml';
const ASSIGNMENT_KEY = 'assignments/staged.json';

/** A silent telemetry that keeps the engine's counts. */
function countingTelemetry(): Telemetry & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const silent = () => {};
  return { counts, logger: { debug: silent, info: silent, warn: silent, error: silent }, count: (name, value = 1) => void (counts[name] = (counts[name] ?? 0) + value) };
}

export async function runStagedRollout(options: StagedRolloutOptions): Promise<StagedRolloutResult> {
  const intervalMs = POLL_INTERVAL_MS;
  const tickMs = TICK_SECONDS * 1000;
  const instance = await createInstance('staged-rollout', options.endpoints, options.logs, options.auth, START_MS);
  // The engine as rollouts.lambda.ts wires it: its own stores over the same (metered) clients, presence read from the batches.
  const stores = createStores(instance.config, instance.clients);
  const telemetry = countingTelemetry();
  const engine: RolloutEngine = createRolloutEngine(
    { config: instance.config, stores, telemetry, now: instance.clock.now },
    new PresenceReader({ store: stores.presence, now: instance.clock.now, ...instance.config.presence }),
  );
  const agents = Array.from({ length: options.agents }, (_, i) => {
    const agent = new SimAgent(i);
    if (groupOf(i) === 'inRollout') agent.attributes = { [GROUP_ATTRIBUTE]: STAGED_GROUP };
    return agent;
  });
  const staged = agents.filter((_, i) => groupOf(i) === 'inRollout');

  const counters = (): Counters => ({ ddbReads: instance.calls.ddbReads, ddbWrites: instance.calls.ddbWrites, rcu: instance.calls.rcu, wcu: instance.calls.wcu, s3Calls: instance.calls.s3Calls });
  let nextTickMs = START_MS;
  let polls: Record<Group, Tally> = { outside: emptyTally(), inRollout: emptyTally() };
  let ticks = emptyTally();
  let lastTick: Rollout[] = [];
  const tick = async () => {
    const before = counters();
    lastTick = (await engine.tick()).evaluated;
    addTo(ticks, before, counters());
  };
  // Engine runs due by `ms` happen first, on the minute, as the schedule would run them.
  const advanceTo = async (ms: number) => {
    while (nextTickMs <= ms) {
      instance.clock.ms = Math.max(instance.clock.ms, nextTickMs);
      await tick();
      nextTickMs += tickMs;
    }
    instance.clock.ms = Math.max(instance.clock.ms, ms);
  };
  let round = 0;
  const roundAt = async (make: (agent: SimAgent) => AgentToServer) => {
    const start = START_MS + round * intervalMs;
    for (const [i, agent] of agents.entries()) {
      // Agents spread evenly over the interval, as independent pollers are.
      await advanceTo(start + Math.floor((i * intervalMs) / agents.length));
      const recorder: Recorder = { results: [], floorEvery: Number.POSITIVE_INFINITY, floor: [] };
      const before = counters();
      await exchange(instance, agent, make(agent), recorder);
      addTo(polls[groupOf(i)], before, counters(), recorder.results.length);
    }
    round++;
  };
  const publish = async (key: string, body: string) => {
    await publishConfig(instance, options.logs, key, body);
    await stageChanges(engine);
  };
  const measure = (on: boolean) => {
    instance.calls.enabled = on;
  };

  // Set-up, not measured: full reports, the staged half given version 1 without a policy,
  // then the policy (its first rollout completes at once: every agent has version 1).
  options.progress(`staged-rollout: warm-up (${agents.length} agents, ${staged.length} of them staged)`);
  await roundAt((a) => a.fullReport());
  await roundAt((a) => a.heartbeat());
  await publish(CONFIG_KEY, collectorYaml(1));
  await publish(ASSIGNMENT_KEY, JSON.stringify({ config: 'staged', selector: `${GROUP_ATTRIBUTE}=${STAGED_GROUP}` }));
  const v1 = collectorYaml(1);
  for (let r = 0; r < 4 && staged.some((a) => a.effective['collector.yaml'] !== v1); r++) await roundAt((a) => a.heartbeat());
  await publish(ASSIGNMENT_KEY, JSON.stringify({ config: 'staged', selector: `${GROUP_ATTRIBUTE}=${STAGED_GROUP}`, rollout: STAGED_POLICY }));
  await roundAt((a) => a.heartbeat());
  const baseline = await engine.list();
  if (baseline.length !== 1 || baseline[0]!.state !== 'completed')
    throw new Error(`staged-rollout: the baseline rollout is ${JSON.stringify(baseline.map((r) => [r.state, r.step, r.counts]))}, not completed`);
  for (const agent of agents) agent.offersReceived = 0;

  options.progress(`staged-rollout: ${REFERENCE_ROUNDS} rounds without a rollout (the engine running every ${TICK_SECONDS} s)`);
  polls = { outside: emptyTally(), inRollout: emptyTally() };
  ticks = emptyTally();
  measure(true);
  for (let r = 0; r < REFERENCE_ROUNDS; r++) await roundAt((a) => a.heartbeat());
  measure(false);
  const noRollout = { outside: perPoll(polls.outside), inRollout: perPoll(polls.inRollout), ticks: perTick(ticks) };
  const referenceAll = emptyTally();
  for (const g of [polls.outside, polls.inRollout]) addTo(referenceAll, emptyTally(), g, g.count);

  options.progress(`staged-rollout: ${CONFIG_KEY} version 2 uploaded, policy steps ${STAGED_POLICY.steps.join('/')} % with ${STAGED_POLICY.bakeSeconds} s bake`);
  polls = { outside: emptyTally(), inRollout: emptyTally() };
  ticks = emptyTally();
  await advanceTo(START_MS + round * intervalMs - 1);
  const uploadMs = instance.clock.ms;
  measure(true);
  await publishConfig(instance, options.logs, CONFIG_KEY, collectorYaml(2));
  const recorded = counters();
  await stageChanges(engine);
  const ingestStage = { ddbReads: counters().ddbReads - recorded.ddbReads, ddbWrites: counters().ddbWrites - recorded.ddbWrites };
  const window = expectedWindow(STAGED_POLICY.steps.length, STAGED_POLICY.bakeSeconds, intervalMs / 1000, TICK_SECONDS, instance.config.fleetRevalidateMs / 1000);
  const maxRounds = Math.ceil((window.maxSeconds * 2 * 1000) / intervalMs);
  let completed: Rollout | undefined;
  for (let r = 0; r < maxRounds && !completed; r++) {
    await roundAt((a) => a.heartbeat());
    completed = lastTick.find((x) => x.state === 'completed');
    const stopped = lastTick.find((x) => x.state !== 'running' && x.state !== 'completed');
    if (stopped) throw new Error(`staged-rollout: the rollout ${stopped.state}: ${stopped.reason ?? ''}`);
  }
  measure(false);
  if (!completed) throw new Error(`staged-rollout: not completed after ${maxRounds} rounds: ${JSON.stringify((await engine.list()).map((x) => [x.state, x.step]))}`);
  const completedSeconds = Math.round((completed.updatedAt - uploadMs) / 1000);
  const allDuring = emptyTally();
  for (const g of [polls.outside, polls.inRollout]) addTo(allDuring, emptyTally(), g, g.count);
  const v2 = collectorYaml(2);

  const result: Omit<StagedRolloutResult, 'targets'> = {
    scenario: 'staged-rollout',
    agents: agents.length,
    agentsInRollout: staged.length,
    agentsOutside: agents.length - staged.length,
    pollIntervalSeconds: intervalMs / 1000,
    tickSeconds: TICK_SECONDS,
    policy: { steps: [...STAGED_POLICY.steps], bakeSeconds: STAGED_POLICY.bakeSeconds },
    noRollout: { all: perPoll(referenceAll), ...noRollout },
    duringRollout: { all: perPoll(allDuring), outside: perPoll(polls.outside), inRollout: perPoll(polls.inRollout), ticks: perTick(ticks) },
    ingestStage,
    completedSeconds,
    expectedSeconds: window,
    stepStartedSeconds: stepStartSeconds(completed.timeline, uploadMs),
    agentsApplied: staged.filter((a) => a.effective['collector.yaml'] === v2).length,
    maxOffersPerAgent: staged.reduce((m, a) => Math.max(m, a.offersReceived), 0),
    engineMetrics: { ...telemetry.counts },
  };
  return { ...result, targets: stagedRolloutTargets(result) };
}
