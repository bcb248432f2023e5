// The steering scenario: agents that take OpAMP connection settings poll at
// whatever interval the server last offered them (heartbeat_interval_seconds).
// One run per idle interval, each against a fresh backend instance: the fleet
// settles, its polls are measured, then the default configuration changes and
// the time until every agent has it (and the server has its APPLIED) is taken.
import type { AgentRemoteConfig, AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { asksFullState, CLIENT_DEFAULT_POLL_SECONDS, seededRandom, SimAgent, STEERABLE_COLLECTOR_CAPS } from './agents.js';
import { createInstance } from './harness.js';
import type { BenchInstance } from './harness.js';
import { floorOp, mean, percentile, publishConfig, recordSize, ROLLOUT_CONFIG_KEY, rolloutConfigBody, START_MS, summarise } from './scenarios.js';
import type { Recorder, ScenarioOptions, ScenarioResult, Target } from './scenarios.js';

/** Idle intervals run unless told otherwise; 0 turns steering off (agents keep the client's 30 s). */
export const DEFAULT_STEERING_IDLE_SECONDS = [0, 60, 300];
/**
 * A supervisor writes the offered configuration, restarts the Collector and
 * reports APPLIED this long after receiving it (APPLYING goes at once).
 */
export const APPLY_DELAY_MS = 2_000;
const FLOOR_SAMPLES_PER_PHASE = 100;
/** Same seed in every run: agents start at the same fractions of their interval, so runs differ only by the interval. */
const PHASE_SEED = 20260105;

type Phase = 'warmUp' | 'settled' | 'change' | 'after';
const PHASES: readonly Phase[] = ['warmUp', 'settled', 'change', 'after'];

/** Seconds from the change being ingested, over the fleet. */
export interface DeliveryStats {
  meanSeconds: number;
  p50Seconds: number;
  p95Seconds: number;
  maxSeconds: number;
  minSeconds: number;
}

export interface SteeringRun {
  /** OPAMP_HEARTBEAT_IDLE_SECONDS for this run; 0: the server does not steer. */
  idleSeconds: number;
  pendingSeconds: number;
  /** The interval the agents polled at once settled. */
  pollIntervalSeconds: number;
  settledSeconds: number;
  pollsPerAgentHour: number;
  /** Write calls, and the write units they consumed, per agent-hour while settled. */
  writesPerAgentHour: number;
  wcuPerAgentHour: number;
  /** Write calls per poll the agent items' own refresh adds: one per refresh window (presence batches come on top). */
  expectedWritesPerPoll: number;
  /** From the change being ingested to the agent receiving the configuration. */
  delivery: DeliveryStats;
  /** From the change being ingested to the server holding the agent's APPLIED status. */
  applied: DeliveryStats;
  /** From the change being ingested until every agent has applied it and is back at its idle interval. */
  changeSeconds: number;
  changePollsPerAgent: number;
  changeWritesPerAgent: number;
  /** Connection settings offers received, mean per agent by phase, and the most any one agent received. */
  settingsOffersPerAgent: Record<Phase, number> & { max: number };
  configOffersPerAgentMax: number;
  /** Agents polling at the idle interval (the client default when not steered) at the end. */
  agentsAtIdle: number;
  /** Every heartbeat interval offered to the first agent, in order. */
  offeredIntervalsSample: number[];
  settled: ScenarioResult;
  change: ScenarioResult;
  after: ScenarioResult;
  targets: Target[];
}

export interface SteeringResult {
  scenario: 'steering';
  agents: number;
  idleIntervals: number[];
  applyDelaySeconds: number;
  fleetRevalidateSeconds: number;
  lastSeenRefreshSeconds: number;
  runs: SteeringRun[];
}

export interface SteeringOptions extends ScenarioOptions {
  idleIntervals: number[];
}

/** One simulated agent and what happened to it. */
interface Member {
  agent: SimAgent;
  /** When its next message goes out (simulated clock). */
  nextAt: number;
  started: boolean;
  /** A configuration it received and reported APPLYING for; APPLIED is still to go. */
  applying: AgentRemoteConfig | undefined;
  deliveredAt: number | undefined;
  appliedAt: number | undefined;
  configOffers: number;
  settingsOffers: Record<Phase, number>;
  offeredIntervals: number[];
}

export async function runSteering(options: SteeringOptions): Promise<SteeringResult> {
  const runs: SteeringRun[] = [];
  let context: Pick<SteeringResult, 'fleetRevalidateSeconds' | 'lastSeenRefreshSeconds'> | undefined;
  for (const idle of options.idleIntervals) {
    const { run, instance } = await runInterval(idle, options);
    runs.push(run);
    context ??= { fleetRevalidateSeconds: instance.config.fleetRevalidateMs / 1000, lastSeenRefreshSeconds: instance.config.core.lastSeenRefreshMs / 1000 };
  }
  return {
    scenario: 'steering',
    agents: options.agents,
    idleIntervals: options.idleIntervals,
    applyDelaySeconds: APPLY_DELAY_MS / 1000,
    fleetRevalidateSeconds: context?.fleetRevalidateSeconds ?? 0,
    lastSeenRefreshSeconds: context?.lastSeenRefreshSeconds ?? 0,
    runs,
  };
}

async function runInterval(idle: number, options: SteeringOptions): Promise<{ run: SteeringRun; instance: BenchInstance }> {
  const label = idle > 0 ? `idle ${idle} s` : 'steering off';
  const instance = await createInstance(`steering-${idle > 0 ? idle : 'off'}`, options.endpoints, options.logs, options.auth, START_MS, {
    OPAMP_HEARTBEAT_IDLE_SECONDS: String(idle),
  });
  const { heartbeat } = instance.config.core.settings;
  const steered = heartbeat.idleSeconds > 0;
  const intervalMs = (steered ? heartbeat.idleSeconds : CLIENT_DEFAULT_POLL_SECONDS) * 1000;
  const refreshMs = instance.config.core.lastSeenRefreshMs;
  // At least ten minutes (several presence batches) and two intervals, in whole intervals. The agent items'
  // own refresh (a day by default) is far longer: settled polls write presence batches only.
  const settledMs = Math.ceil(Math.max(10 * 60_000, 2 * intervalMs) / intervalMs) * intervalMs;
  // Agents come online spread over one interval (the longer of the client default and the idle interval),
  // so their polls are spread evenly over the interval they settle at, as in a fleet started at arbitrary times.
  const spanMs = Math.max(CLIENT_DEFAULT_POLL_SECONDS * 1000, intervalMs);
  const random = seededRandom(PHASE_SEED);
  const members: Member[] = Array.from({ length: options.agents }, (_, i) => ({
    agent: new SimAgent(i, STEERABLE_COLLECTOR_CAPS),
    nextAt: START_MS + Math.floor(random() * spanMs),
    started: false,
    applying: undefined,
    deliveredAt: undefined,
    appliedAt: undefined,
    configOffers: 0,
    settingsOffers: { warmUp: 0, settled: 0, change: 0, after: 0 },
    offeredIntervals: [],
  }));
  let phase: Phase = 'warmUp';
  let recorder: Recorder | undefined;

  /** One wake-up of an agent: its message, and whatever the replies make it send at once. */
  const turn = async (member: Member) => {
    const { agent } = member;
    const now = instance.clock.ms;
    const applying = member.applying;
    let message: AgentToServer | undefined = !member.started ? agent.fullReport() : applying ? agent.applied(applying) : agent.heartbeat();
    member.started = true;
    let steps = 0;
    while (message) {
      if (++steps > 6) throw new Error(`steering (${label}): agent ${agent.uidText} sent more than 6 messages in one exchange`);
      const sent = message;
      const result = await instance.poll(sent);
      if (result.status !== 200 || !result.reply) {
        throw new Error(`steering (${label}): agent ${agent.uidText}: HTTP ${result.status} ${Buffer.from(result.replyBody).toString('utf8').slice(0, 200)}`);
      }
      const reply = result.reply;
      if (reply.errorResponse) throw new Error(`steering (${label}): agent ${agent.uidText}: error reply ${reply.errorResponse.errorMessage}`);
      if (recorder) {
        recorder.results.push(result);
        if (recorder.results.length % recorder.floorEvery === 0) recorder.floor.push(await floorOp(instance, result.requestBody, reply, agent.uidText));
      }
      if (applying && sent.remoteConfigStatus && steps === 1) {
        member.appliedAt = now;
        member.applying = undefined;
      }
      if (reply.connectionSettings) {
        agent.takeSettings(reply.connectionSettings);
        member.settingsOffers[phase]++;
        const seconds = reply.connectionSettings.opamp?.heartbeatIntervalSeconds;
        if (seconds !== undefined && seconds > 0n) member.offeredIntervals.push(Number(seconds));
      }
      const config = reply.remoteConfig;
      if (config) member.configOffers++;
      message = undefined;
      if (asksFullState(reply)) {
        message = agent.fullReport();
      } else if (config && !sameBytes(config.configHash, agent.lastRemoteHash)) {
        member.deliveredAt ??= now;
        member.applying = config;
        message = agent.applying(config);
      }
      if (!message && agent.owesSettingsStatus) message = agent.settingsStatusReport();
    }
    // The opamp-go client restarts its polling timer after every send, at the interval it now has.
    member.nextAt = now + (member.applying ? APPLY_DELAY_MS : agent.pollIntervalSeconds * 1000);
  };

  /** Runs every wake-up before `untilMs` in time order, or until `done` holds. */
  const advance = async (untilMs: number, done?: () => boolean) => {
    for (;;) {
      if (done?.()) return;
      let next = members[0]!;
      for (const m of members) if (m.nextAt < next.nextAt) next = m;
      if (next.nextAt >= untilMs) break;
      instance.clock.ms = Math.max(instance.clock.ms, next.nextAt);
      await turn(next);
    }
    instance.clock.ms = Math.max(instance.clock.ms, untilMs);
  };

  const measure = (expectedPolls: number) => {
    recorder = { results: [], floorEvery: Math.max(1, Math.floor(expectedPolls / FLOOR_SAMPLES_PER_PHASE)), floor: [] };
    instance.calls.reset();
    options.logs.reset();
    instance.calls.enabled = true;
    options.logs.counting = true;
  };
  const endMeasure = (fromMs: number, record: { fullRecordBytes: number; stateItemBytes: number }): ScenarioResult => {
    instance.calls.enabled = false;
    options.logs.counting = false;
    const measured = recorder!;
    recorder = undefined;
    const simulatedMs = instance.clock.ms - fromMs;
    return summarise(
      'steering',
      instance.calls.snapshot(),
      options.logs,
      measured,
      { cpuMsPerPoll: mean(measured.floor) / 1000, samples: measured.floor.length },
      {
        agents: members.length,
        rounds: Math.round((simulatedMs / intervalMs) * 100) / 100,
        simulatedSeconds: simulatedMs / 1000,
        ...record,
      },
    );
  };

  // Warm-up: every agent's first full report (and, when steered, the idle
  // interval offered and acknowledged), then one interval of heartbeats. Not measured.
  options.progress(`steering (${label}): warm-up, ${members.length} agents coming online over ${spanMs / 1000} s`);
  const settledFrom = START_MS + spanMs + intervalMs;
  await advance(settledFrom);
  const record = await recordSize(instance, members[0]!.agent.uidText);

  phase = 'settled';
  options.progress(`steering (${label}): ${settledMs / 1000} s settled at ${intervalMs / 1000} s polls`);
  measure((members.length * settledMs) / intervalMs);
  await advance(settledFrom + settledMs);
  const settled = endMeasure(settledFrom, record);

  // The change: a new default configuration, uploaded and ingested at `changedAt`.
  phase = 'change';
  const changedAt = instance.clock.ms;
  options.progress(`steering (${label}): change ${ROLLOUT_CONFIG_KEY}; waiting for every agent to apply it`);
  await publishConfig(instance, options.logs, ROLLOUT_CONFIG_KEY, rolloutConfigBody());
  const atIdle = (m: Member) => m.agent.pollIntervalSeconds * 1000 === intervalMs && !m.agent.owesSettingsStatus;
  const settledAgain = () => members.every((m) => m.appliedAt !== undefined && atIdle(m));
  measure(members.length * 4);
  // Bounded: an agent the server keeps at the pending interval, or never offers the change, shows as a missed target.
  await advance(changedAt + 3 * intervalMs + instance.config.fleetRevalidateMs + 60_000, settledAgain);
  const change = endMeasure(changedAt, record);
  const changeEnd = instance.clock.ms;
  const notApplied = members.filter((m) => m.appliedAt === undefined).length;
  if (notApplied > 0) {
    throw new Error(`steering (${label}): ${notApplied} of ${members.length} agents had not applied the configuration ${(changeEnd - changedAt) / 1000} s after the change`);
  }

  // One more idle interval: nothing should be offered any more.
  phase = 'after';
  measure(members.length);
  await advance(changeEnd + intervalMs);
  const after = endMeasure(changeEnd, record);

  const seconds = (at: number | undefined) => (at! - changedAt) / 1000;
  const perAgent = (x: number) => round2(x / members.length);
  const offers = Object.fromEntries(PHASES.map((p) => [p, perAgent(members.reduce((s, m) => s + m.settingsOffers[p], 0))])) as Record<Phase, number>;
  const maxOffers = Math.max(...members.map((m) => PHASES.reduce((s, p) => s + m.settingsOffers[p], 0)));
  const refreshesPerWindow = Math.max(1, Math.ceil(refreshMs / intervalMs));
  const run: SteeringRun = {
    idleSeconds: heartbeat.idleSeconds,
    pendingSeconds: heartbeat.pendingSeconds,
    pollIntervalSeconds: intervalMs / 1000,
    settledSeconds: settledMs / 1000,
    pollsPerAgentHour: round2(settled.polls / members.length / (settledMs / 3_600_000)),
    writesPerAgentHour: round2((settled.ddbWritesPerPoll * settled.polls) / members.length / (settledMs / 3_600_000)),
    wcuPerAgentHour: round2((settled.wcuPerPoll * settled.polls) / members.length / (settledMs / 3_600_000)),
    expectedWritesPerPoll: round4(1 / refreshesPerWindow),
    delivery: stats(members.map((m) => seconds(m.deliveredAt))),
    applied: stats(members.map((m) => seconds(m.appliedAt))),
    changeSeconds: (changeEnd - changedAt) / 1000,
    changePollsPerAgent: perAgent(change.polls),
    changeWritesPerAgent: perAgent(change.ddbWritesPerPoll * change.polls),
    settingsOffersPerAgent: { ...offers, max: maxOffers },
    configOffersPerAgentMax: Math.max(...members.map((m) => m.configOffers)),
    agentsAtIdle: members.filter(atIdle).length,
    offeredIntervalsSample: members[0]!.offeredIntervals,
    settled,
    change,
    after,
    targets: [],
  };
  run.targets = steeringTargets(run, members.length, instance.config.fleetRevalidateMs / 1000, steered);
  return { run, instance };
}

function steeringTargets(r: SteeringRun, agents: number, revalidateSeconds: number, steered: boolean): Target[] {
  const t = (name: string, limit: string, measured: string, held: boolean): Target => ({ name, limit, measured, held });
  const offers = r.settingsOffersPerAgent;
  const maxDelivery = r.pollIntervalSeconds + revalidateSeconds;
  return [
    t('settled write units per poll', '<= 0.01', String(r.settled.wcuPerPoll), r.settled.wcuPerPoll <= 0.01),
    t('settings offers per agent while settled', '0', String(offers.settled), offers.settled === 0),
    steered
      ? t('settings offers per agent for the change', '<= 2', `mean ${offers.change}`, offers.change <= 2)
      : t('settings offers per agent (steering off)', '0', String(offers.warmUp + offers.settled + offers.change + offers.after), offers.warmUp + offers.settled + offers.change + offers.after === 0),
    t('settings offers per agent after the change', '0', String(offers.after), offers.after === 0),
    t('agents back at the idle interval', `${agents}`, String(r.agentsAtIdle), r.agentsAtIdle === agents),
    t('configuration offers per agent', '1', `max ${r.configOffersPerAgentMax}`, r.configOffersPerAgentMax === 1),
    t('longest delivery', `<= ${maxDelivery} s`, `${r.delivery.maxSeconds} s`, r.delivery.maxSeconds <= maxDelivery),
  ];
}

function stats(values: number[]): DeliveryStats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    meanSeconds: round2(mean(sorted)),
    p50Seconds: round2(percentile(sorted, 50)),
    p95Seconds: round2(percentile(sorted, 95)),
    maxSeconds: round2(sorted.at(-1) ?? 0),
    minSeconds: round2(sorted[0] ?? 0),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
