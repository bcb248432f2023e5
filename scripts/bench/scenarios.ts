// The three scenarios (steady, churn, rollout): warm-up, measured rounds on the
// simulated clock, and the CPU floor measured in the same run.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { queryPartition } from '../../functions/adapters/dynamodb/query-pages.js';
import { AGENT_STATE_SORT_KEY, agentKey, presencePartition } from '../../functions/adapters/dynamodb/table-schema.js';
import { decodePresence } from '../../functions/core/presence.js';
import { AgentToServerSchema, RemoteConfigStatuses, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { asksFullState, collectorYaml, seededRandom, SimAgent } from './agents.js';
import { createInstance } from './harness.js';
import type { BenchInstance, Endpoints, PollResult } from './harness.js';
import { itemSize, writeUnits } from './meter.js';
import type { LogMeter, MeterSnapshot } from './meter.js';

export const POLL_INTERVAL_MS = 30_000;
export const START_MS = Date.UTC(2026, 0, 5, 9, 0, 0);
const FLOOR_SAMPLES = 300;

export type ScenarioName = 'steady' | 'churn' | 'rollout';

export interface Target {
  name: string;
  limit: string;
  measured: string;
  held: boolean;
}

/** One JSON line; the first fields are the stable ones scripts rely on. */
export interface ScenarioResult {
  /** `steering` for the phases of the steering scenario (see steering.ts). */
  scenario: ScenarioName | 'steering' | 'scale';
  polls: number;
  ddbReadsPerPoll: number;
  ddbWritesPerPoll: number;
  rcuPerPoll: number;
  wcuPerPoll: number;
  s3CallsPerPoll: number;
  reqBytesPerPoll: number;
  respBytesPerPoll: number;
  logBytesPerPoll: number;
  handlerP50Ms: number;
  handlerP99Ms: number;
  cpuOverFloor: number;
  // Extra fields.
  /** How often each agent polled. */
  pollIntervalSeconds?: number;
  /** Presence batches this instance wrote while measured. */
  presence?: PresenceFigures;
  agents: number;
  rounds: number;
  simulatedSeconds: number;
  handlerCpuMsPerPoll: number;
  floorCpuMsPerPoll: number;
  /** Handler CPU of the polls that made exactly one SDK call (the agent read), over the floor: the app's own overhead. */
  handlerCpuMsOneCallPoll: number;
  cpuOverFloorOneCallPolls: number;
  oneCallPolls: number;
  floorSamples: number;
  ddbCalls: Record<string, number>;
  ddbCallsByTarget: Record<string, number>;
  s3Calls: Record<string, number>;
  revalidationReadsPerPoll: number;
  /** Read units of the per-poll agent-item reads alone (revalidation reads excluded). */
  agentRcuPerPoll: number;
  capacitySource: string;
  logLinesPerPoll: number;
  logLines: number;
  emfDocuments: number;
  emfBytesPerPoll: number;
  logLineSamples: string[];
  /** Custom metric names in the EMF documents. */
  metricNames?: string[];
  maxRespBytes: number;
  respHeaderBytesPerPoll: number;
  /** DynamoDB size of one agent's full record (state item and section items) after its first full report. */
  fullRecordBytes: number;
  stateItemBytes: number;
  configFiles?: number;
  configBodyReads?: number;
  agentsApplied?: number;
  targets: Target[];
}

export interface PresenceFigures {
  items: number;
  itemsPerInstanceMinute: number;
  meanItemBytes: number;
  maxItemBytes: number;
  meanAgentsPerItem: number;
  /** Write units of the batches over the polls measured. */
  wcuPerPoll: number;
}

export interface Recorder {
  results: PollResult[];
  /** Take a floor sample after every this many polls. */
  floorEvery: number;
  /** CPU microseconds of each floor sample. */
  floor: number[];
}

export interface ScenarioOptions {
  agents: number;
  /** How often each agent polls (steady, churn, rollout); 30 s unless told. */
  intervalMs?: number;
  endpoints: Endpoints;
  logs: LogMeter;
  auth: 'token' | 'none';
  progress: (line: string) => void;
}

export async function runScenario(name: ScenarioName, options: ScenarioOptions): Promise<ScenarioResult> {
  const interval = options.intervalMs ?? POLL_INTERVAL_MS;
  const tag = interval === POLL_INTERVAL_MS ? name : `${name}-${interval / 1000}`;
  const instance = await createInstance(tag, options.endpoints, options.logs, options.auth, START_MS);
  const agents = Array.from({ length: options.agents }, (_, i) => new SimAgent(i));
  let round = 0;

  const roundAt = async (make: (agent: SimAgent) => AgentToServer, recorder?: Recorder) => {
    const start = START_MS + round * interval;
    for (const [i, agent] of agents.entries()) {
      // Agents spread evenly over the interval, as independent pollers are.
      instance.clock.ms = start + Math.floor((i * interval) / agents.length);
      await exchange(instance, agent, make(agent), recorder);
    }
    round++;
  };

  // Warm-up: every agent's first full report, then a round of heartbeats
  // (fleet and token caches filled, JIT warm, the floor's path too). Not measured.
  options.progress(`${name}: warm-up (${agents.length} agents)`);
  await roundAt((a) => a.fullReport());
  const { fullRecordBytes, stateItemBytes } = await recordSize(instance, agents[0]!.uidText);
  await roundAt((a) => a.heartbeat(), { results: [], floorEvery: 1, floor: [] });

  const expectedPolls = agents.length * (name === 'steady' ? 20 : name === 'churn' ? 10 : 6);
  const recorder: Recorder = { results: [], floorEvery: Math.max(1, Math.floor(expectedPolls / FLOOR_SAMPLES)), floor: [] };
  let extras: Partial<ScenarioResult> = {};
  let measuredRounds = 0;
  const startMeasure = () => {
    instance.calls.reset();
    options.logs.reset();
    instance.calls.enabled = true;
    options.logs.counting = true;
  };
  const stopMeasure = () => {
    instance.calls.enabled = false;
    options.logs.counting = false;
  };
  const measuredStartMs = START_MS + round * interval;

  if (name === 'steady') {
    // 20 rounds: 10 simulated minutes at 30 s, 100 at 300 s; presence batches every minute or so.
    measuredRounds = 20;
    options.progress(`steady: ${measuredRounds} rounds of heartbeats every ${interval / 1000} s`);
    startMeasure();
    for (let r = 0; r < measuredRounds; r++) await roundAt((a) => a.heartbeat(), recorder);
    stopMeasure();
  } else if (name === 'churn') {
    // Each round 5% of agents report a changed health tree and 2% a changed effective config.
    measuredRounds = 10;
    options.progress(`churn: ${measuredRounds} rounds, 5% health and 2% effective-config changes per round`);
    const random = seededRandom(20260105);
    startMeasure();
    for (let r = 0; r < measuredRounds; r++) {
      await roundAt((a) => {
        const x = random();
        if (x < 0.05) return a.healthChange();
        if (x < 0.07) return a.effectiveConfigChange();
        return a.heartbeat();
      }, recorder);
    }
    stopMeasure();
  } else {
    // An operator uploads a new default configuration; the ingest function records it.
    options.progress(`rollout: upload ${ROLLOUT_CONFIG_KEY} and ingest it`);
    // Just before the next round (the clock never goes back).
    instance.clock.ms = Math.max(instance.clock.ms, START_MS + round * interval - 1);
    await publishConfig(instance, options.logs, ROLLOUT_CONFIG_KEY, rolloutConfigBody());
    const readsBefore = instance.backend.configBodies.reads;
    startMeasure();
    // Every agent polls, receives the configuration, reports APPLYING and then APPLIED.
    while (measuredRounds < 2 || (agents.some((a) => !isApplied(a)) && measuredRounds < 8)) {
      await roundAt((a) => a.heartbeat(), recorder);
      measuredRounds++;
    }
    stopMeasure();
    const applied = agents.filter(isApplied).length;
    if (applied !== agents.length) throw new Error(`rollout: only ${applied} of ${agents.length} agents applied the configuration after ${measuredRounds} rounds`);
    const reoffered = agents.filter((a) => a.offersReceived > 1).length;
    if (reoffered > 0) throw new Error(`rollout: ${reoffered} agents were offered the configuration more than once`);
    extras = { configFiles: 1, configBodyReads: instance.backend.configBodies.reads - readsBefore, agentsApplied: applied };
  }

  const calls = instance.calls.snapshot();
  const floor = { cpuMsPerPoll: mean(recorder.floor) / 1000, samples: recorder.floor.length };
  const endMs = START_MS + round * interval;
  const simulatedSeconds = (endMs - measuredStartMs) / 1000;
  return summarise(name, calls, options.logs, recorder, floor, {
    pollIntervalSeconds: interval / 1000,
    presence: await presenceItems(instance, measuredStartMs, endMs),
    agents: agents.length,
    rounds: measuredRounds,
    simulatedSeconds,
    fullRecordBytes,
    stateItemBytes,
    ...extras,
  });
}

function isApplied(agent: SimAgent): boolean {
  return agent.remoteStatus === RemoteConfigStatuses.RemoteConfigStatuses_APPLIED;
}

/** The default configuration every agent is assigned; the rollout changes it. */
export const ROLLOUT_CONFIG_KEY = 'configs/default/collector.yaml';

export function rolloutConfigBody(): string {
  return collectorYaml(1000).replace('send_batch_size: 8192', 'send_batch_size: 4096');
}

/** An operator uploads a configuration file and the ingest function records it, at the instance's clock. */
export async function publishConfig(instance: BenchInstance, logs: LogMeter, key: string, body: string): Promise<void> {
  await instance.clients.s3.send(new PutObjectCommand({ Bucket: instance.bucketName, Key: key, Body: Buffer.from(body), ContentType: 'text/yaml' }));
  logs.capturing = true;
  try {
    const outcomes = await instance.backend.ingest.handleEvent([{ eventName: 'ObjectCreated:Put', s3: { object: { key, sequencer: '0065A1B2C3D4E5F601' } } }]);
    if (!outcomes.includes('recorded')) throw new Error(`the ingest did not record ${key}: ${outcomes.join(', ')}`);
  } finally {
    logs.capturing = false;
  }
}

/** One exchange as the opamp-go client has it: a full report at once when asked, status reports at once. */
export async function exchange(instance: BenchInstance, agent: SimAgent, message: AgentToServer, recorder?: Recorder): Promise<void> {
  let next: AgentToServer | undefined = message;
  let offer: ServerToAgent['remoteConfig'];
  let steps = 0;
  while (next) {
    if (++steps > 6) throw new Error(`agent ${agent.uidText}: more than 6 messages in one exchange`);
    const result = await instance.poll(next);
    if (result.status !== 200 || !result.reply) {
      throw new Error(`agent ${agent.uidText}: HTTP ${result.status} ${Buffer.from(result.replyBody).toString('utf8').slice(0, 200)}`);
    }
    if (result.reply.errorResponse) throw new Error(`agent ${agent.uidText}: error reply ${result.reply.errorResponse.errorMessage}`);
    if (recorder) {
      recorder.results.push(result);
      if (recorder.results.length % recorder.floorEvery === 0) recorder.floor.push(await floorOp(instance, result.requestBody, result.reply, agent.uidText));
    }
    const reply = result.reply;
    if (asksFullState(reply)) {
      next = agent.fullReport();
    } else if (reply.remoteConfig && !offer) {
      offer = reply.remoteConfig;
      agent.offersReceived++;
      next = agent.applying(offer);
    } else if (offer && agent.remoteStatus === RemoteConfigStatuses.RemoteConfigStatuses_APPLYING) {
      next = agent.applied(offer); // APPLYING -> APPLIED
    } else {
      if (reply.remoteConfig) agent.offersReceived++;
      next = undefined;
    }
  }
}

/**
 * The floor: what any implementation must spend per poll — decode the
 * request, encode the reply, and one strongly consistent GetItem of the
 * agent's item through the same SDK client against the same store. Measured
 * interleaved with the handler's polls (right after a sampled poll, on the same
 * message), so both see the same process state; not metered as app calls, but
 * with ReturnConsumedCapacity as the metered handler calls have it.
 */
export async function floorOp(instance: BenchInstance, request: Uint8Array, reply: ServerToAgent, uid: string): Promise<number> {
  const metering = instance.calls.enabled;
  instance.calls.enabled = false;
  try {
    const cpu0 = process.cpuUsage();
    fromBinary(AgentToServerSchema, request);
    toBinary(ServerToAgentSchema, reply);
    await instance.clients.dynamodb.send(
      new GetItemCommand({
        TableName: instance.tableName,
        Key: { pk: { S: agentKey(uid) }, sk: { S: AGENT_STATE_SORT_KEY } },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    return cpu.user + cpu.system;
  } finally {
    instance.calls.enabled = metering;
  }
}

export async function recordSize(instance: BenchInstance, uid: string): Promise<{ fullRecordBytes: number; stateItemBytes: number }> {
  let fullRecordBytes = 0;
  let stateItemBytes = 0;
  for await (const item of queryPartition(instance.clients.dynamodb, { table: instance.tableName, pk: agentKey(uid), consistent: false })) {
    const size = itemSize(item);
    fullRecordBytes += size;
    if (item.sk?.S === AGENT_STATE_SORT_KEY) stateItemBytes = size;
  }
  return { fullRecordBytes, stateItemBytes };
}

/**
 * The presence batches the instance flushed between `fromMs` and `toMs`, read
 * straight from their window partitions (not metered): how many, how large, how
 * many agents each. Write units per poll are left to summarise.
 */
export async function presenceItems(instance: BenchInstance, fromMs: number, toMs: number): Promise<PresenceFigures> {
  const windowMs = instance.config.presence.windowMs;
  const sizes: number[] = [];
  const agents: number[] = [];
  let wcu = 0;
  for (let start = Math.floor(fromMs / windowMs) * windowMs; start < toMs; start += windowMs) {
    for await (const item of queryPartition(instance.clients.dynamodb, { table: instance.tableName, pk: presencePartition(start), consistent: false })) {
      const size = itemSize(item);
      sizes.push(size);
      wcu += writeUnits(size);
      agents.push(decodePresence(Number(item.base?.N ?? 0), item.agents?.B ?? new Uint8Array()).length);
    }
  }
  const minutes = (toMs - fromMs) / 60_000;
  return {
    items: sizes.length,
    itemsPerInstanceMinute: round4(minutes > 0 ? sizes.length / minutes : 0),
    meanItemBytes: Math.round(mean(sizes)),
    maxItemBytes: sizes.reduce((m, x) => Math.max(m, x), 0),
    meanAgentsPerItem: Math.round(mean(agents)),
    wcuPerPoll: wcu,
  };
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((s, x) => s + x, 0) / values.length : 0;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const round2 = (x: number) => Math.round(x * 100) / 100;

export function summarise(
  name: ScenarioResult['scenario'],
  calls: MeterSnapshot,
  logs: LogMeter,
  recorder: Recorder,
  floor: { cpuMsPerPoll: number; samples: number },
  extra: Pick<ScenarioResult, 'agents' | 'rounds' | 'simulatedSeconds' | 'fullRecordBytes' | 'stateItemBytes'> & Partial<ScenarioResult>,
): ScenarioResult {
  const { results } = recorder;
  const polls = results.length;
  const per = (x: number) => (polls ? x / polls : 0);
  const wall = results.map((r) => r.wallMs).sort((a, b) => a - b);
  const handlerCpuMs = per(results.reduce((s, r) => s + r.cpuUs, 0)) / 1000;
  const oneCall = results.filter((r) => r.sdkCalls === 1);
  const oneCallCpuMs = mean(oneCall.map((r) => r.cpuUs)) / 1000;
  const agentRcu = calls.rcuByTarget.get('agent') ?? 0;
  const capacitySource =
    calls.capacityComputed === 0 ? 'ReturnConsumedCapacity (dynalite)' : `ReturnConsumedCapacity for ${calls.capacityReported} calls, computed from item sizes for ${calls.capacityComputed}`;
  const result: ScenarioResult = {
    scenario: name,
    polls,
    ddbReadsPerPoll: round4(per(calls.ddbReads)),
    ddbWritesPerPoll: round4(per(calls.ddbWrites)),
    rcuPerPoll: round4(per(calls.rcu)),
    wcuPerPoll: round4(per(calls.wcu)),
    s3CallsPerPoll: round4(per(calls.s3Calls)),
    reqBytesPerPoll: round2(per(results.reduce((s, r) => s + r.reqBytes, 0))),
    respBytesPerPoll: round2(per(results.reduce((s, r) => s + r.respBytes, 0))),
    logBytesPerPoll: round2(per(logs.bytes)),
    handlerP50Ms: round2(percentile(wall, 50)),
    handlerP99Ms: round2(percentile(wall, 99)),
    cpuOverFloor: floor.cpuMsPerPoll > 0 ? round2(handlerCpuMs / floor.cpuMsPerPoll) : 0,
    agents: extra.agents,
    rounds: extra.rounds,
    simulatedSeconds: extra.simulatedSeconds,
    handlerCpuMsPerPoll: round4(handlerCpuMs),
    floorCpuMsPerPoll: round4(floor.cpuMsPerPoll),
    handlerCpuMsOneCallPoll: round4(oneCallCpuMs),
    cpuOverFloorOneCallPolls: floor.cpuMsPerPoll > 0 ? round2(oneCallCpuMs / floor.cpuMsPerPoll) : 0,
    oneCallPolls: oneCall.length,
    floorSamples: floor.samples,
    ddbCalls: Object.fromEntries(calls.ddb),
    ddbCallsByTarget: Object.fromEntries(calls.ddbByTarget),
    s3Calls: Object.fromEntries(calls.s3),
    revalidationReadsPerPoll: round4(per(calls.revalidationReads)),
    agentRcuPerPoll: round4(per(agentRcu)),
    capacitySource,
    logLinesPerPoll: round4(per(logs.lines)),
    logLines: logs.lines,
    emfDocuments: logs.emfDocuments,
    emfBytesPerPoll: round2(per(logs.emfBytes)),
    logLineSamples: [...logs.samples],
    metricNames: [...logs.metricNames].sort(),
    maxRespBytes: results.reduce((m, r) => Math.max(m, r.respBytes), 0),
    respHeaderBytesPerPoll: round2(per(results.reduce((s, r) => s + r.respHeaderBytes, 0))),
    fullRecordBytes: extra.fullRecordBytes,
    stateItemBytes: extra.stateItemBytes,
    ...(extra.pollIntervalSeconds !== undefined ? { pollIntervalSeconds: extra.pollIntervalSeconds } : {}),
    ...(extra.presence ? { presence: { ...extra.presence, wcuPerPoll: round4(per(extra.presence.wcuPerPoll)) } } : {}),
    ...(extra.configFiles !== undefined ? { configFiles: extra.configFiles, configBodyReads: extra.configBodyReads, agentsApplied: extra.agentsApplied } : {}),
    targets: [],
  };
  result.targets = targetsFor(result);
  return result;
}

function targetsFor(r: ScenarioResult): Target[] {
  const t = (name: string, limit: string, measured: string, held: boolean): Target => ({ name, limit, measured, held });
  if (r.scenario === 'steady') {
    return [
      t('DynamoDB read calls per poll', '<= 1', String(r.ddbReadsPerPoll), r.ddbReadsPerPoll <= 1),
      t('write units per poll', '<= 0.01', String(r.wcuPerPoll), r.wcuPerPoll <= 0.01),
      t('S3 calls per poll', '0', String(r.s3CallsPerPoll), r.s3CallsPerPoll === 0),
      t('log line bytes per poll (EMF excluded)', '0', String(round2(r.logBytesPerPoll - r.emfBytesPerPoll)), r.logBytesPerPoll - r.emfBytesPerPoll <= 0),
      t('steady-state reply bytes (largest)', '<= 24', String(r.maxRespBytes), r.maxRespBytes <= 24),
      t('log lines for steady heartbeats (INFO)', '0', String(r.logLines), r.logLines === 0),
      t('handler CPU / floor', '<= 1.5', String(r.cpuOverFloor), r.cpuOverFloor <= 1.5),
    ];
  }
  if (r.scenario === 'rollout') {
    return [t('config body reads from S3 per instance', `<= ${r.configFiles} (files)`, String(r.configBodyReads), (r.configBodyReads ?? Infinity) <= (r.configFiles ?? 0))];
  }
  return [];
}
