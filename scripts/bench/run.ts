// npm run bench [-- --json] [--agents N] [--scenario steady|churn|rollout|staged-rollout|steering|fast-pollers|large-messages|scale[,...]|all] [--steady-intervals 30,60,300] [--intervals 0,60,300] [--scale-agents 200,10000] [--no-cold-start] [--auth token|none]
//
// Drives the real OpAMP app (the agent endpoint as the Lambda entry wires it, and its wrapper) with
// simulated agents against dynalite and s3rver running in a child process,
// prints per-scenario figures with their targets, the cold start of the
// bundled function, and a monthly cost model (and, with the steering
// scenario, the cost and change delivery time at each idle poll interval).
// Exits non-zero only on errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';

import { parseArgs } from 'node:util';
import { loadConfig } from '../../functions/config.js';
import { measureColdStart, opampMemoryMb } from './cold-start.js';
import type { ColdStartResult } from './cold-start.js';
import { costModel, costTable, crossoverTable, intervalCostModel, intervalCostTable } from './cost-model.js';
import type { CostModelResult, IntervalCostResult } from './cost-model.js';
import { benchSettings, startEmulatorProcess } from './harness.js';
import type { EmulatorProcess } from './harness.js';
import { LogMeter } from './meter.js';
import { ROLLOUT_CONFIG_KEY, runScenario } from './scenarios.js';
import type { ScenarioName, ScenarioResult, Target } from './scenarios.js';
import { DEFAULT_STEERING_IDLE_SECONDS, runSteering } from './steering.js';
import { renderScale, runScale } from './scale.js';
import type { ScaleResult } from './scale.js';
import type { SteeringResult, SteeringRun } from './steering.js';
import { runFastPollers } from './fast-pollers.js';
import type { FastPollersResult } from './fast-pollers.js';
import { runLargeMessages } from './large-messages.js';
import { runStagedRollout } from './staged-rollout.js';
import { renderStagedRollout, STAGED_DEFAULT_AGENTS } from './staged-rollout-figures.js';
import type { StagedRolloutResult } from './staged-rollout-figures.js';
import type { LargeMessagesResult } from './large-messages.js';

const USAGE =
  'usage: npm run bench -- [--json] [--agents N] [--scenario steady|churn|rollout|staged-rollout|steering|fast-pollers|large-messages|scale[,...]|all] [--steady-intervals 30,60,300] [--intervals 0,60,300] [--scale-agents 200,10000] [--auth token|none] [--no-cold-start]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      // 200 for every scenario but staged-rollout (1,000) and scale (--scale-agents).
      agents: { type: 'string' },
      scenario: { type: 'string', default: 'all' },
      // Idle poll intervals (seconds) the steering scenario runs; 0: steering off.
      intervals: { type: 'string', default: DEFAULT_STEERING_IDLE_SECONDS.join(',') },
      // Poll intervals (seconds) the steady scenario runs at, one fresh backend each.
      'steady-intervals': { type: 'string', default: '30,60,300' },
      // Fleet sizes the scale scenario runs (each its own backend, agents at 300 s).
      'scale-agents': { type: 'string', default: '200,10000' },
      auth: { type: 'string', default: 'token' },
      'no-cold-start': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const agents = Number(values.agents ?? '200');
  if (!Number.isInteger(agents) || agents < 1) throw new UsageError(`--agents must be a positive integer, not ${values.agents}`);
  const stagedAgents = values.agents === undefined ? STAGED_DEFAULT_AGENTS : agents;
  type Name = ScenarioName | 'staged-rollout' | 'steering' | 'fast-pollers' | 'large-messages' | 'scale';
  const all: Name[] = ['steady', 'churn', 'rollout', 'staged-rollout', 'steering', 'fast-pollers', 'large-messages', 'scale'];
  const scenarios = values.scenario === 'all' ? all : (values.scenario.split(',').map((s) => s.trim()) as Name[]);
  if (!scenarios.every((s) => all.includes(s))) throw new UsageError(`--scenario must be one or more (comma-separated) of ${all.join(', ')}, or all`);
  const idleIntervals = values.intervals
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (idleIntervals.length === 0 || !idleIntervals.every((x) => Number.isInteger(x) && x >= 0 && x <= 86_400)) {
    throw new UsageError(`--intervals must be a comma-separated list of whole seconds (0: steering off), not ${values.intervals}`);
  }
  const steadyIntervals = secondsList(values['steady-intervals'], '--steady-intervals', 1);
  const scaleAgents = secondsList(values['scale-agents'], '--scale-agents', 1);
  if (values.auth !== 'token' && values.auth !== 'none') throw new UsageError('--auth must be token or none');
  const auth = values.auth;
  const json = values.json;
  const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

  const settings = benchSettings();
  // Invalid OPAMP_* settings fail here, before the emulators start.
  loadConfig({ ...settings }, { agentAuth: auth });
  const memoryMb = opampMemoryMb() ?? 256;
  progress(`settings: ${Object.keys(settings).length ? JSON.stringify(settings) : 'defaults'}; agent auth ${auth}; log level ${process.env.POWERTOOLS_LOG_LEVEL}`);

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).map(shellWord).join(' ')}` : ''}`;
  const started = Date.now();
  const results: ScenarioResult[] = [];
  let steering: SteeringResult | undefined;
  const extra: Array<FastPollersResult | LargeMessagesResult | StagedRolloutResult> = [];
  let scale: ScaleResult | undefined;
  let emulators: EmulatorProcess | undefined;
  const logs = new LogMeter();
  try {
    progress('starting dynalite and s3rver in a child process');
    emulators = await startEmulatorProcess();
    logs.install();
    for (const name of scenarios) {
      if (name === 'steering') steering = await runSteering({ agents, endpoints: emulators, logs, auth, progress, idleIntervals });
      else if (name === 'fast-pollers') extra.push(await runFastPollers({ endpoints: emulators, logs, auth, progress }));
      else if (name === 'large-messages') extra.push(await runLargeMessages({ endpoints: emulators, logs, auth, progress }));
      else if (name === 'staged-rollout') extra.push(await runStagedRollout({ agents: stagedAgents, endpoints: emulators, logs, auth, progress }));
      else if (name === 'scale') scale = await runScale({ sizes: scaleAgents, endpoints: emulators, logs, auth, progress });
      else if (name === 'steady') {
        for (const seconds of steadyIntervals) results.push(await runScenario(name, { agents, endpoints: emulators, logs, auth, progress, intervalMs: seconds * 1000 }));
      } else results.push(await runScenario(name, { agents, endpoints: emulators, logs, auth, progress }));
    }
  } finally {
    logs.uninstall();
    await emulators?.stop();
  }

  const coldStart = values['no-cold-start'] ? undefined : await measureColdStart(progress);
  const steadyRuns = results.filter((r) => r.scenario === 'steady');
  const cost = steadyRuns.length > 0 ? costModel({ steady: steadyRuns, scale: scale?.runs.map((r) => r.steady) ?? [], memoryMb }) : undefined;
  const intervalCost = steering ? intervalCostModel({ steering, memoryMb, command }) : undefined;
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (json) {
    for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (steering) process.stdout.write(`${JSON.stringify(steering)}\n`);
    for (const r of extra) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (scale) process.stdout.write(`${JSON.stringify(scale)}\n`);
    if (coldStart) process.stdout.write(`${JSON.stringify(coldStart)}\n`);
    if (cost) process.stdout.write(`${JSON.stringify(cost)}\n`);
    if (intervalCost) process.stdout.write(`${JSON.stringify(intervalCost)}\n`);
  } else {
    process.stdout.write(renderText(results, coldStart, cost, { settings, auth, memoryMb, command, steering, intervalCost, scale }));
    for (const r of extra) process.stdout.write(renderExtra(r));
  }
}

/** An argument as a shell would need it quoted. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

class UsageError extends Error {}

/** The fast-pollers, large-messages and staged-rollout scenarios: one row per run, then their targets. */
function renderExtra(r: FastPollersResult | LargeMessagesResult | StagedRolloutResult): string {
  const out: string[] = [];
  if (r.scenario === 'staged-rollout') {
    out.push(
      `== staged-rollout: ${r.agents} agents polling every ${r.pollIntervalSeconds} s, ${r.agentsInRollout} of them in a rollout (steps ${r.policy.steps.join('/')} %, bake ${r.policy.bakeSeconds} s), the engine every ${r.tickSeconds} s`,
    );
    out.push(...columns(renderStagedRollout(r, fmt)));
  } else if (r.scenario === 'fast-pollers') {
    out.push('== fast-pollers: agents polling faster than OPAMP_MIN_POLL_INTERVAL_SECONDS, after a 10-minute warm-up, 20 minutes measured');
    out.push(
      ...table(
        r.runs.map((x) => [
          `every ${x.intervalSeconds} s (${x.agents} agents, ${x.polls} polls)`,
          `${fmt(x.logBytesPerPoll)} log B/poll`,
          `${x.logLines} log lines; writes ${fmt(x.ddbWritesPerPoll)}/poll (refresh alone ${fmt(x.expectedWritesPerPoll)}); full-state requests ${x.fullStateRequests} (warm-up ${x.warmUpFullStateRequests})`,
        ]),
      ),
    );
  } else {
    out.push(`== large-messages: new agents' first messages near the ${r.bodyLimitBytes}-byte body limit`);
    out.push(
      ...table(
        r.runs.map((x) => [
          `${x.shape} (${x.requestBytes} B)`,
          `HTTP ${x.statuses.join(',')}`,
          `handler CPU max ${x.handlerCpuMsMax} ms, mean ${x.handlerCpuMsMean} ms; state item ${x.stateItemBytes} B`,
        ]),
      ),
    );
  }
  out.push(...targets(r.targets), '');
  return `${out.join('\n')}\n`;
}

/** A comma-separated list of whole numbers, each at least `min`. */
function secondsList(text: string, option: string, min: number): number[] {
  const list = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (list.length === 0 || !list.every((x) => Number.isInteger(x) && x >= min && x <= 1_000_000)) {
    throw new UsageError(`${option} must be a comma-separated list of whole numbers of at least ${min}, not ${text}`);
  }
  return list;
}

interface RenderContext {
  settings: Record<string, string>;
  auth: string;
  memoryMb: number;
  command: string;
  steering: SteeringResult | undefined;
  intervalCost: IntervalCostResult | undefined;
  scale: ScaleResult | undefined;
}

function renderText(results: ScenarioResult[], coldStart: ColdStartResult | undefined, cost: CostModelResult | undefined, ctx: RenderContext): string {
  const out: string[] = [];
  out.push(`OpAMP backend benchmark (${Object.keys(ctx.settings).length ? `settings ${JSON.stringify(ctx.settings)}` : 'default settings'}, agent auth ${ctx.auth}, Node ${process.version})`);
  out.push(`command: ${ctx.command}`);
  out.push('');
  for (const r of results) {
    out.push(`== ${r.scenario}: ${r.agents} agents, ${r.rounds} rounds of ${r.pollIntervalSeconds ?? 30} s (${r.simulatedSeconds} s simulated), ${r.polls} polls measured`);
    const rows: Array<[string, string, string?]> = [
      ['DynamoDB read calls / poll', fmt(r.ddbReadsPerPoll), `${calls(r.ddbCallsByTarget, /^(GetItem|Query|Scan|BatchGetItem|DescribeTable):/)}; revalidation ${fmt(r.revalidationReadsPerPoll)}/poll`],
      ['DynamoDB write calls / poll', fmt(r.ddbWritesPerPoll), calls(r.ddbCallsByTarget, /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem):/)],
      ['read capacity units / poll', fmt(r.rcuPerPoll), `agent item ${fmt(r.agentRcuPerPoll)}`],
      ['write capacity units / poll', fmt(r.wcuPerPoll), `${r.capacitySource}; presence batches ${fmt(r.presence?.wcuPerPoll ?? 0)}`],
      ['S3 calls / poll', fmt(r.s3CallsPerPoll), calls(r.s3Calls, /./)],
      ['request bytes / poll', fmt(r.reqBytesPerPoll), 'protobuf body'],
      ['response bytes / poll', fmt(r.respBytesPerPoll), `body as sent; largest ${r.maxRespBytes}; handler headers ${fmt(r.respHeaderBytesPerPoll)}`],
      ['log bytes / poll', fmt(r.logBytesPerPoll), `${r.logLines} log lines, ${r.emfDocuments} EMF documents (${fmt(r.emfBytesPerPoll)} B/poll)`],
      ['handler time p50 / p99', `${r.handlerP50Ms} / ${r.handlerP99Ms} ms`, 'wall, in process, emulators over loopback'],
      ['handler CPU / poll', `${r.handlerCpuMsPerPoll} ms`, `floor ${r.floorCpuMsPerPoll} ms (decode + encode + 1 consistent GetItem, ${r.floorSamples} samples)`],
      ['CPU over floor', fmt(r.cpuOverFloor), `polls with just the agent read (${r.oneCallPolls}): ${r.handlerCpuMsOneCallPoll} ms, ${fmt(r.cpuOverFloorOneCallPolls)}x the floor`],
    ];
    if (r.presence) {
      const p = r.presence;
      rows.push([
        'presence batches',
        String(p.items),
        `${fmt(p.itemsPerInstanceMinute)} per instance-minute; mean ${p.meanItemBytes} B (largest ${p.maxItemBytes} B), ${p.meanAgentsPerItem} agents each`,
      ]);
    }
    if (r.configBodyReads !== undefined) rows.push(['config body S3 reads', String(r.configBodyReads), `${r.configFiles} file(s); ${r.agentsApplied} agents APPLIED`]);
    out.push(...table(rows));
    if (r.logLineSamples.length) out.push(`  log line sample: ${r.logLineSamples[0]}`);
    out.push(...targets(r.targets));
    out.push('');
  }
  if (ctx.steering) out.push(...renderSteering(ctx.steering), '');
  if (ctx.scale) {
    out.push(`== scale: fleets polling every ${ctx.scale.runs[0]?.pollIntervalSeconds ?? 0} s, one function instance and one fresh backend each; then the fleet API lists every agent`);
    out.push(...columns(renderScale(ctx.scale, fmt) as Array<[string, ...string[]]>), ...targets(ctx.scale.targets), '');
  }
  if (coldStart) {
    out.push(
      `== cold start: functions/entry/opamp.lambda.ts bundled as the stack does (${coldStart.bundling.source}; esm, ${coldStart.bundling.target}, minified, S3 client from the runtime on first use)`,
    );
    out.push(
      ...table([
        ['bundle size', `${coldStart.bundleKB} KB`, `${coldStart.bundleBytes} bytes`],
        ['module init (median of 5)', `${coldStart.initMsMedian} ms`, `runs ${coldStart.initMsRuns.join(', ')} ms (fastest ${coldStart.initMsMin})`],
        ['  with --enable-source-maps', `${coldStart.initMsMedianWithSourceMaps} ms`, 'NODE_OPTIONS as the stack sets it'],
        ['process start to ready', `${coldStart.sinceProcessStartMsMedian} ms`, `Node ${process.version} boot included`],
      ]),
    );
    out.push(`  largest parts: ${coldStart.largestContributors.map((c) => `${c.name} ${c.kb} KB`).join(', ')}`);
    out.push(...targets(coldStart.targets));
    out.push('');
  }
  if (cost) {
    out.push(`== monthly cost (USD, ${cost.prices.region}, prices read ${cost.prices.readOn}; ${ctx.memoryMb} MB arm64; 30 days)`);
    out.push(costTable(cost));
    out.push('', '  where an always-on server (instance pair and load balancer) becomes the cheaper one:', crossoverTable(cost));
    const idle = cost.rows.find((r) => r.agents === 10_000 && r.pollIntervalSeconds === 300);
    if (idle) {
      out.push(...targets([{ name: `10,000 agents at 300 s, all-in (${idle.measuredBy})`, limit: '<= $40', measured: `$${idle.total} (old design $${idle.oldTotal})`, held: idle.total <= 40 }]));
    }
    for (const n of cost.notes) out.push(`  - ${n}`);
    out.push('');
  }
  if (ctx.intervalCost) {
    const c = ctx.intervalCost;
    out.push(`== monthly cost by poll interval (USD, ${c.prices.region}, prices read ${c.prices.readOn}; ${ctx.memoryMb} MB arm64; 30 days; each interval priced from its own steering run)`);
    out.push(`  measured by: ${c.command}`);
    out.push(intervalCostTable(c));
    for (const n of c.notes) out.push(`  - ${n}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** The steering runs side by side, one column per idle interval. */
function renderSteering(s: SteeringResult): string[] {
  const runs = s.runs;
  const heading = (r: SteeringRun) => (r.idleSeconds > 0 ? `idle ${r.idleSeconds} s` : 'steering off');
  const stat = (d: SteeringRun['delivery']) => `${fmt(d.meanSeconds)} / ${fmt(d.p50Seconds)} / ${fmt(d.p95Seconds)} / ${fmt(d.maxSeconds)} s`;
  const offers = (r: SteeringRun) => PHASE_ORDER.map((p) => fmt(r.settingsOffersPerAgent[p])).join(' / ');
  const rows: Array<[string, ...string[]]> = [
    ['', ...runs.map(heading)],
    ['agents poll every', ...runs.map((r) => `${r.pollIntervalSeconds} s`)],
    ['settled: polls measured', ...runs.map((r) => `${r.settled.polls} in ${r.settledSeconds} s`)],
    ['settled: DynamoDB read calls / poll', ...runs.map((r) => fmt(r.settled.ddbReadsPerPoll))],
    ['settled: DynamoDB write calls / poll', ...runs.map((r) => `${fmt(r.settled.ddbWritesPerPoll)} (refresh ${fmt(r.expectedWritesPerPoll)})`)],
    ['settled: RCU / WCU per poll', ...runs.map((r) => `${fmt(r.settled.rcuPerPoll)} / ${fmt(r.settled.wcuPerPoll)}`)],
    ['settled: WCU per write call', ...runs.map((r) => (r.settled.ddbWritesPerPoll > 0 ? fmt(Math.round((r.settled.wcuPerPoll / r.settled.ddbWritesPerPoll) * 100) / 100) : '-'))],
    ['agent state item (after warm-up)', ...runs.map((r) => `${r.settled.stateItemBytes} B`)],
    ['settled: S3 calls / poll', ...runs.map((r) => fmt(r.settled.s3CallsPerPoll))],
    ['settled: polls / writes / WCU per agent-hour', ...runs.map((r) => `${fmt(r.pollsPerAgentHour)} / ${fmt(r.writesPerAgentHour)} / ${fmt(r.wcuPerAgentHour)}`)],
    ['settled: response bytes / poll', ...runs.map((r) => fmt(r.settled.respBytesPerPoll))],
    ['settled: handler p50 / p99', ...runs.map((r) => `${r.settled.handlerP50Ms} / ${r.settled.handlerP99Ms} ms`)],
    ['change: until all applied and idle', ...runs.map((r) => `${fmt(r.changeSeconds)} s`)],
    ['change: polls measured', ...runs.map((r) => String(r.change.polls))],
    ['change: DynamoDB read calls / poll', ...runs.map((r) => fmt(r.change.ddbReadsPerPoll))],
    ['change: DynamoDB write calls / poll', ...runs.map((r) => fmt(r.change.ddbWritesPerPoll))],
    ['change: S3 calls / poll', ...runs.map((r) => `${fmt(r.change.s3CallsPerPoll)} (${calls(r.change.s3Calls, /./)})`)],
    ['change: polls / writes per agent', ...runs.map((r) => `${fmt(r.changePollsPerAgent)} / ${fmt(r.changeWritesPerAgent)}`)],
    ['delivery mean / p50 / p95 / max', ...runs.map((r) => stat(r.delivery))],
    ['  for reference: interval / 2', ...runs.map((r) => `${fmt(r.pollIntervalSeconds / 2)} s`)],
    ['  first delivery (fleet cache pickup)', ...runs.map((r) => `${fmt(r.delivery.minSeconds)} s`)],
    ['APPLIED at server mean/p50/p95/max', ...runs.map((r) => stat(r.applied))],
    ['settings offers / agent (warm-up / settled / change / after)', ...runs.map(offers)],
    ['most settings offers to one agent', ...runs.map((r) => String(r.settingsOffersPerAgent.max))],
    ['intervals offered to agent 0', ...runs.map((r) => (r.offeredIntervalsSample.length ? r.offeredIntervalsSample.join(', ') : 'none'))],
    ['agents at the idle interval at the end', ...runs.map((r) => `${r.agentsAtIdle} of ${s.agents}`)],
  ];
  const out = [
    `== steering: ${s.agents} agents (Collector + supervisor taking OpAMP connection settings, reporting heartbeat and settings status), ` +
      `one fresh backend per idle interval; settled phase, then ${ROLLOUT_CONFIG_KEY} changed; APPLIED ${s.applyDelaySeconds} s after delivery; ` +
      `pending interval ${runs[0]?.pendingSeconds ?? 0} s; fleet cache revalidation ${s.fleetRevalidateSeconds} s; last-seen refresh ${s.lastSeenRefreshSeconds} s`,
    ...columns(rows),
  ];
  for (const r of runs) {
    out.push(`  targets (${heading(r)}):`);
    out.push(...targets(r.targets).slice(1));
  }
  return out;
}

const PHASE_ORDER = ['warmUp', 'settled', 'change', 'after'] as const;

function columns(rows: Array<[string, ...string[]]>): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')}`);
}

function table(rows: Array<[string, string, string?]>): string[] {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}${c ? `   ${c}` : ''}`);
}

function targets(list: Target[]): string[] {
  if (list.length === 0) return [];
  const w = Math.max(...list.map((t) => t.name.length));
  return ['  targets:', ...list.map((t) => `    ${(t.held ? 'HELD' : 'NOT HELD').padEnd(8)}  ${t.name.padEnd(w)}  ${t.limit.padEnd(14)} measured ${t.measured}`)];
}

function calls(map: Record<string, number>, keep: RegExp): string {
  const parts = Object.entries(map)
    .filter(([k]) => keep.test(k))
    .map(([k, v]) => `${k.replace(':', ' ')} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
