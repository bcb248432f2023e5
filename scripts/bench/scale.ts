// The scale scenario: fleets of growing size polling every 300 s on the
// simulated clock, one fresh backend each. Per fleet: the steady per-poll
// figures, the presence batches, the handler CPU per poll (flat when the work
// per poll does not grow with the fleet), and the fleet API listing every agent
// page by page with its reads.
import { performance } from 'node:perf_hooks';
import { createFleetApi } from '../../functions/entry/fleet-api.js';
import { createStores } from '../../functions/entry/stores.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { SimAgent } from './agents.js';
import { createInstance } from './harness.js';
import type { BenchInstance, Endpoints } from './harness.js';
import type { LogMeter } from './meter.js';
import { exchange, mean, presenceItems, START_MS, summarise } from './scenarios.js';
import type { Recorder, ScenarioResult, Target } from './scenarios.js';

export const SCALE_INTERVAL_SECONDS = 300;
const LIST_PAGE_SIZE = 1000;
const FLOOR_SAMPLES = 300;

export interface ListFigures {
  pageSize: number;
  pages: number;
  agentsListed: number;
  online: number;
  /** DynamoDB read calls and read units of the whole listing, and per list call (page). */
  readCalls: number;
  readUnits: number;
  readCallsPerListCall: number;
  readUnitsPerListCall: number;
  /** Presence windows read (Query calls) for the whole listing: the first page fills the cache. */
  presenceReads: number;
  presenceReadUnits: number;
  wallMsPerListCall: number;
}

export interface ScaleRun {
  agents: number;
  pollIntervalSeconds: number;
  steady: ScenarioResult;
  list: ListFigures;
}

export interface ScaleResult {
  scenario: 'scale';
  runs: ScaleRun[];
  targets: Target[];
}

export interface ScaleOptions {
  sizes: number[];
  endpoints: Endpoints;
  logs: LogMeter;
  auth: 'token' | 'none';
  progress: (line: string) => void;
}

export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const runs: ScaleRun[] = [];
  for (const size of options.sizes) runs.push(await runSize(size, options));
  return { scenario: 'scale', runs, targets: scaleTargets(runs) };
}

async function runSize(size: number, options: ScaleOptions): Promise<ScaleRun> {
  const intervalMs = SCALE_INTERVAL_SECONDS * 1000;
  // The server's idle interval is what the fleet API's presence lookback follows.
  const instance = await createInstance(`scale-${size}`, options.endpoints, options.logs, options.auth, START_MS, {
    OPAMP_HEARTBEAT_IDLE_SECONDS: String(SCALE_INTERVAL_SECONDS),
  });
  const agents = Array.from({ length: size }, (_, i) => new SimAgent(i));
  let round = 0;
  const roundAt = async (make: (agent: SimAgent) => ReturnType<SimAgent['heartbeat']>, recorder?: Recorder) => {
    const start = START_MS + round * intervalMs;
    for (const [i, agent] of agents.entries()) {
      instance.clock.ms = start + Math.floor((i * intervalMs) / agents.length);
      await exchange(instance, agent, make(agent), recorder);
    }
    round++;
  };

  options.progress(`scale ${size}: warm-up (full reports, then a round of heartbeats)`);
  await roundAt((a) => a.fullReport());
  await roundAt((a) => a.heartbeat());

  // At least 4,000 measured polls, at least one round.
  const rounds = Math.max(1, Math.ceil(4000 / size));
  const recorder: Recorder = { results: [], floorEvery: Math.max(1, Math.floor((rounds * size) / FLOOR_SAMPLES)), floor: [] };
  const measuredStartMs = START_MS + round * intervalMs;
  options.progress(`scale ${size}: ${rounds} rounds of heartbeats every ${SCALE_INTERVAL_SECONDS} s`);
  instance.calls.reset();
  options.logs.reset();
  instance.calls.enabled = true;
  options.logs.counting = true;
  for (let r = 0; r < rounds; r++) await roundAt((a) => a.heartbeat(), recorder);
  instance.calls.enabled = false;
  options.logs.counting = false;
  const endMs = START_MS + round * intervalMs;
  const steady = summarise(
    'scale',
    instance.calls.snapshot(),
    options.logs,
    recorder,
    { cpuMsPerPoll: mean(recorder.floor) / 1000, samples: recorder.floor.length },
    {
      pollIntervalSeconds: SCALE_INTERVAL_SECONDS,
      presence: await presenceItems(instance, measuredStartMs, endMs),
      agents: size,
      rounds,
      simulatedSeconds: (endMs - measuredStartMs) / 1000,
      fullRecordBytes: 0,
      stateItemBytes: 0,
    },
  );

  options.progress(`scale ${size}: fleet API lists every agent, ${LIST_PAGE_SIZE} a page`);
  const list = await listAll(instance, size);
  return { agents: size, pollIntervalSeconds: SCALE_INTERVAL_SECONDS, steady, list };
}

/** Pages through GET /api/v1/agents as an operator would, on a fleet API wired as api.lambda.ts wires it. */
async function listAll(instance: BenchInstance, size: number): Promise<ListFigures> {
  const { app } = createFleetApi({ config: instance.config, stores: createStores(instance.config, instance.clients), telemetry: NO_TELEMETRY, now: instance.clock.now });
  instance.calls.reset();
  instance.calls.enabled = true;
  let cursor: string | undefined;
  let pages = 0;
  let listed = 0;
  let online = 0;
  const t0 = performance.now();
  try {
    do {
      const query = new URLSearchParams({ limit: String(LIST_PAGE_SIZE), ...(cursor ? { cursor } : {}) });
      const res = await app.request(`/api/v1/agents?${query}`);
      if (res.status !== 200) throw new Error(`fleet API list: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { agents: Array<{ liveness: string }>; nextCursor?: string };
      pages++;
      listed += body.agents.length;
      online += body.agents.filter((a) => a.liveness === 'online').length;
      cursor = body.nextCursor;
    } while (cursor);
  } finally {
    instance.calls.enabled = false;
  }
  const wallMs = performance.now() - t0;
  if (listed !== size) throw new Error(`fleet API listed ${listed} of ${size} agents`);
  const calls = instance.calls.snapshot();
  const presenceReads = calls.ddbByTarget.get('Query:presence') ?? 0;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    pageSize: LIST_PAGE_SIZE,
    pages,
    agentsListed: listed,
    online,
    readCalls: calls.ddbReads,
    readUnits: r2(calls.rcu),
    readCallsPerListCall: r2(calls.ddbReads / pages),
    readUnitsPerListCall: r2(calls.rcu / pages),
    presenceReads,
    presenceReadUnits: r2(calls.rcuByTarget.get('presence') ?? 0),
    wallMsPerListCall: r2(wallMs / pages),
  };
}

function scaleTargets(runs: ScaleRun[]): Target[] {
  const t = (name: string, limit: string, measured: string, held: boolean): Target => ({ name, limit, measured, held });
  const targets: Target[] = [];
  for (const run of runs) {
    const s = run.steady;
    const logLineBytes = Math.round((s.logBytesPerPoll - s.emfBytesPerPoll) * 100) / 100;
    targets.push(
      t(`${run.agents} agents: write units per poll`, '<= 0.01', String(s.wcuPerPoll), s.wcuPerPoll <= 0.01),
      t(`${run.agents} agents: DynamoDB read calls per poll`, '<= 1', String(s.ddbReadsPerPoll), s.ddbReadsPerPoll <= 1),
      t(`${run.agents} agents: S3 calls per poll`, '0', String(s.s3CallsPerPoll), s.s3CallsPerPoll === 0),
      t(`${run.agents} agents: log line bytes per poll`, '0', String(logLineBytes), logLineBytes <= 0),
      t(`${run.agents} agents: every agent listed online`, String(run.agents), String(run.list.online), run.list.online === run.agents),
    );
  }
  const first = runs[0];
  const last = runs.at(-1);
  if (first && last && last !== first) {
    // CPU over the floor measured in the same run: robust against a busy machine, unlike raw CPU time.
    const ratio = Math.round((last.steady.cpuOverFloor / Math.max(0.01, first.steady.cpuOverFloor)) * 100) / 100;
    targets.push(t(`handler CPU / floor at ${last.agents} vs ${first.agents} agents`, '<= 1.25', `${ratio}x (${last.steady.cpuOverFloor} vs ${first.steady.cpuOverFloor})`, ratio <= 1.25));
  }
  return targets;
}

/** The scale runs side by side, one column per fleet size. */
export function renderScale(result: ScaleResult, fmt: (x: number) => string): string[][] {
  const runs = result.runs;
  const rows: string[][] = [
    ['', ...runs.map((r) => `${r.agents.toLocaleString('en-US')} agents`)],
    ['polls measured', ...runs.map((r) => `${r.steady.polls} in ${r.steady.simulatedSeconds} s`)],
    ['DynamoDB read calls / poll', ...runs.map((r) => fmt(r.steady.ddbReadsPerPoll))],
    ['RCU / WCU per poll', ...runs.map((r) => `${fmt(r.steady.rcuPerPoll)} / ${fmt(r.steady.wcuPerPoll)}`)],
    ['S3 calls / poll', ...runs.map((r) => fmt(r.steady.s3CallsPerPoll))],
    ['log line bytes / poll (EMF)', ...runs.map((r) => `${fmt(r.steady.logBytesPerPoll - r.steady.emfBytesPerPoll)} (${fmt(r.steady.emfBytesPerPoll)})`)],
    ['presence items / instance-minute', ...runs.map((r) => fmt(r.steady.presence?.itemsPerInstanceMinute ?? 0))],
    ['presence item mean / largest', ...runs.map((r) => `${r.steady.presence?.meanItemBytes ?? 0} / ${r.steady.presence?.maxItemBytes ?? 0} B`)],
    ['agents per presence item', ...runs.map((r) => String(r.steady.presence?.meanAgentsPerItem ?? 0))],
    ['handler CPU / poll', ...runs.map((r) => `${r.steady.handlerCpuMsPerPoll} ms`)],
    ['handler CPU / floor', ...runs.map((r) => fmt(r.steady.cpuOverFloor))],
    ['handler p50 / p99', ...runs.map((r) => `${r.steady.handlerP50Ms} / ${r.steady.handlerP99Ms} ms`)],
    [`list: pages of ${LIST_PAGE_SIZE}`, ...runs.map((r) => String(r.list.pages))],
    ['list: read calls / RCU per list call', ...runs.map((r) => `${fmt(r.list.readCallsPerListCall)} / ${fmt(r.list.readUnitsPerListCall)}`)],
    ['list: presence windows read (RCU)', ...runs.map((r) => `${r.list.presenceReads} (${fmt(r.list.presenceReadUnits)})`)],
    ['list: whole fleet read calls / RCU', ...runs.map((r) => `${r.list.readCalls} / ${fmt(r.list.readUnits)}`)],
    ['list: agents online', ...runs.map((r) => `${r.list.online} of ${r.list.agentsListed}`)],
  ];
  return rows;
}
