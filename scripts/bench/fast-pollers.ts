// The fast-pollers scenario: agents that poll faster than the server's
// expected minimum (OPAMP_MIN_POLL_INTERVAL_SECONDS, 15 s by default), at 2 s
// and at 10 s, on their own clocks. Once each agent's cadence is known its
// heartbeats must log nothing and write nothing beyond the last-seen refresh.
import { asksFullState, SimAgent } from './agents.js';
import { createInstance } from './harness.js';
import type { BenchInstance } from './harness.js';
import { START_MS } from './scenarios.js';
import type { ScenarioOptions, Target } from './scenarios.js';

export const FAST_POLL_INTERVALS_SECONDS = [2, 10];
const AGENTS_PER_INTERVAL = 5;
const WARM_UP_MS = 10 * 60_000;
const MEASURE_MS = 20 * 60_000;

export interface FastPollersRun {
  intervalSeconds: number;
  agents: number;
  polls: number;
  /** Log output other than metric documents, per measured poll. */
  logBytesPerPoll: number;
  logLines: number;
  ddbWritesPerPoll: number;
  /** Writes per poll if last-seen refreshes were the only writes. */
  expectedWritesPerPoll: number;
  fullStateRequests: number;
  warmUpFullStateRequests: number;
  logLineSamples: string[];
}

export interface FastPollersResult {
  scenario: 'fast-pollers';
  runs: FastPollersRun[];
  targets: Target[];
}

export async function runFastPollers(options: Pick<ScenarioOptions, 'endpoints' | 'logs' | 'auth' | 'progress'>): Promise<FastPollersResult> {
  const runs: FastPollersRun[] = [];
  for (const seconds of FAST_POLL_INTERVALS_SECONDS) {
    options.progress(`fast-pollers: ${AGENTS_PER_INTERVAL} agents polling every ${seconds} s`);
    runs.push(await runOne(seconds, options));
  }
  const targets = runs.flatMap((r) => [
    { name: `log bytes per steady poll at ${r.intervalSeconds} s`, limit: '0', measured: String(r.logBytesPerPoll), held: r.logBytesPerPoll === 0 },
    {
      name: `writes per steady poll at ${r.intervalSeconds} s`,
      limit: `<= ${r.expectedWritesPerPoll} (last-seen refresh)`,
      measured: String(r.ddbWritesPerPoll),
      held: r.ddbWritesPerPoll <= r.expectedWritesPerPoll,
    },
    { name: `full-state requests while steady at ${r.intervalSeconds} s`, limit: '0', measured: String(r.fullStateRequests), held: r.fullStateRequests === 0 },
  ]);
  return { scenario: 'fast-pollers', runs, targets };
}

async function runOne(seconds: number, options: Pick<ScenarioOptions, 'endpoints' | 'logs' | 'auth'>): Promise<FastPollersRun> {
  const instance = await createInstance(`fast-${seconds}`, options.endpoints, options.logs, options.auth, START_MS);
  const intervalMs = seconds * 1000;
  const agents = Array.from({ length: AGENTS_PER_INTERVAL }, (_, i) => new SimAgent(i));
  const tally = { polls: 0, fullState: 0 };
  for (const agent of agents) await exchange(instance, agent, true, tally);
  await pollFor(instance, agents, intervalMs, WARM_UP_MS, tally);
  instance.calls.reset();
  options.logs.reset();
  instance.calls.enabled = true;
  options.logs.counting = true;
  const measured = { polls: 0, fullState: 0 };
  await pollFor(instance, agents, intervalMs, MEASURE_MS, measured);
  instance.calls.enabled = false;
  options.logs.counting = false;
  const calls = instance.calls.snapshot();
  const refreshMs = instance.config.core.lastSeenRefreshMs;
  return {
    intervalSeconds: seconds,
    agents: agents.length,
    polls: measured.polls,
    logBytesPerPoll: round4((options.logs.bytes - options.logs.emfBytes) / measured.polls),
    logLines: options.logs.lines,
    ddbWritesPerPoll: round4(calls.ddbWrites / measured.polls),
    expectedWritesPerPoll: round4(Math.ceil(MEASURE_MS / refreshMs) / (MEASURE_MS / intervalMs)),
    fullStateRequests: measured.fullState,
    warmUpFullStateRequests: tally.fullState,
    logLineSamples: [...options.logs.samples],
  };
}

/** Every agent polls every `intervalMs` for `durationMs`, spread evenly over the interval. */
async function pollFor(instance: BenchInstance, agents: SimAgent[], intervalMs: number, durationMs: number, tally: { polls: number; fullState: number }): Promise<void> {
  const start = instance.clock.ms;
  for (let t = 0; t < durationMs; t += intervalMs) {
    for (const [i, agent] of agents.entries()) {
      instance.clock.ms = start + t + Math.floor((i * intervalMs) / agents.length);
      await exchange(instance, agent, false, tally);
    }
  }
  instance.clock.ms = start + durationMs;
}

/** One poll; a full report at once when asked, as the opamp-go client does. */
async function exchange(instance: BenchInstance, agent: SimAgent, first: boolean, tally: { polls: number; fullState: number }): Promise<void> {
  let message = first ? agent.fullReport() : agent.heartbeat();
  for (let steps = 0; steps < 3; steps++) {
    const result = await instance.poll(message);
    if (result.status !== 200) throw new Error(`agent ${agent.uidText}: HTTP ${result.status}`);
    tally.polls++;
    if (!asksFullState(result.reply)) return;
    tally.fullState++;
    message = agent.fullReport();
  }
  throw new Error(`agent ${agent.uidText}: asked for its full state three times in a row`);
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
