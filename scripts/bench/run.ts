// npm run bench [-- --json] [--agents N] [--scenario steady|churn|rollout|all] [--no-cold-start] [--auth token|none]
//
// Drives the real OpAMP app (the agent endpoint as the Lambda entry wires it, and its wrapper) with
// simulated agents against dynalite and s3rver running in a child process,
// prints per-scenario figures with their targets, the cold start of the
// bundled function, and a monthly cost model. Exits non-zero only on errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';

import { parseArgs } from 'node:util';
import { loadConfig } from '../../functions/config.js';
import { measureColdStart, opampMemoryMb } from './cold-start.js';
import type { ColdStartResult } from './cold-start.js';
import { costModel, costTable } from './cost-model.js';
import type { CostModelResult } from './cost-model.js';
import { benchSettings, startEmulatorProcess } from './harness.js';
import type { EmulatorProcess } from './harness.js';
import { LogMeter } from './meter.js';
import { POLL_INTERVAL_MS, runScenario } from './scenarios.js';
import type { ScenarioName, ScenarioResult, Target } from './scenarios.js';

const USAGE = 'usage: npm run bench -- [--json] [--agents N] [--scenario steady|churn|rollout|all] [--auth token|none] [--no-cold-start]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      agents: { type: 'string', default: '200' },
      scenario: { type: 'string', default: 'all' },
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
  const agents = Number(values.agents);
  if (!Number.isInteger(agents) || agents < 1) throw new UsageError(`--agents must be a positive integer, not ${values.agents}`);
  const all: ScenarioName[] = ['steady', 'churn', 'rollout'];
  const scenarios = values.scenario === 'all' ? all : [values.scenario as ScenarioName];
  if (!scenarios.every((s) => all.includes(s))) throw new UsageError(`--scenario must be one of steady, churn, rollout, all`);
  if (values.auth !== 'token' && values.auth !== 'none') throw new UsageError('--auth must be token or none');
  const auth = values.auth;
  const json = values.json;
  const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

  const settings = benchSettings();
  const config = loadConfig({ ...settings }, { agentAuth: auth });
  const memoryMb = opampMemoryMb() ?? 256;
  progress(`settings: ${Object.keys(settings).length ? JSON.stringify(settings) : 'defaults'}; agent auth ${auth}; log level ${process.env.POWERTOOLS_LOG_LEVEL}`);

  const started = Date.now();
  const results: ScenarioResult[] = [];
  let emulators: EmulatorProcess | undefined;
  const logs = new LogMeter();
  try {
    progress('starting dynalite and s3rver in a child process');
    emulators = await startEmulatorProcess();
    logs.install();
    for (const name of scenarios) {
      results.push(await runScenario(name, { agents, endpoints: emulators, logs, auth, progress }));
    }
  } finally {
    logs.uninstall();
    await emulators?.stop();
  }

  const coldStart = values['no-cold-start'] ? undefined : await measureColdStart(progress);
  const steady = results.find((r) => r.scenario === 'steady');
  const cost = steady
    ? costModel({ steady, benchPollIntervalSeconds: POLL_INTERVAL_MS / 1000, lastSeenRefreshSeconds: config.core.lastSeenRefreshMs / 1000, memoryMb })
    : undefined;
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (json) {
    for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (coldStart) process.stdout.write(`${JSON.stringify(coldStart)}\n`);
    if (cost) process.stdout.write(`${JSON.stringify(cost)}\n`);
  } else {
    process.stdout.write(renderText(results, coldStart, cost, { settings, auth, memoryMb }));
  }
}

class UsageError extends Error {}

function renderText(results: ScenarioResult[], coldStart: ColdStartResult | undefined, cost: CostModelResult | undefined, ctx: { settings: Record<string, string>; auth: string; memoryMb: number }): string {
  const out: string[] = [];
  out.push(`OpAMP backend benchmark (${Object.keys(ctx.settings).length ? `settings ${JSON.stringify(ctx.settings)}` : 'default settings'}, agent auth ${ctx.auth}, Node ${process.version})`);
  out.push('');
  for (const r of results) {
    out.push(`== ${r.scenario}: ${r.agents} agents, ${r.rounds} rounds of 30 s (${r.simulatedSeconds} s simulated), ${r.polls} polls measured`);
    const rows: Array<[string, string, string?]> = [
      ['DynamoDB read calls / poll', fmt(r.ddbReadsPerPoll), `${calls(r.ddbCallsByTarget, /^(GetItem|Query|Scan|BatchGetItem|DescribeTable):/)}; revalidation ${fmt(r.revalidationReadsPerPoll)}/poll`],
      ['DynamoDB write calls / poll', fmt(r.ddbWritesPerPoll), calls(r.ddbCallsByTarget, /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem):/)],
      ['read capacity units / poll', fmt(r.rcuPerPoll), `agent item ${fmt(r.agentRcuPerPoll)}`],
      ['write capacity units / poll', fmt(r.wcuPerPoll), r.capacitySource],
      ['S3 calls / poll', fmt(r.s3CallsPerPoll), calls(r.s3Calls, /./)],
      ['request bytes / poll', fmt(r.reqBytesPerPoll), 'protobuf body'],
      ['response bytes / poll', fmt(r.respBytesPerPoll), `body as sent; largest ${r.maxRespBytes}; handler headers ${fmt(r.respHeaderBytesPerPoll)}`],
      ['log bytes / poll', fmt(r.logBytesPerPoll), `${r.logLines} log lines, ${r.emfDocuments} EMF documents (${fmt(r.emfBytesPerPoll)} B/poll)`],
      ['handler time p50 / p99', `${r.handlerP50Ms} / ${r.handlerP99Ms} ms`, 'wall, in process, emulators over loopback'],
      ['handler CPU / poll', `${r.handlerCpuMsPerPoll} ms`, `floor ${r.floorCpuMsPerPoll} ms (decode + encode + 1 consistent GetItem, ${r.floorSamples} samples)`],
      ['CPU over floor', fmt(r.cpuOverFloor), `polls with just the agent read (${r.oneCallPolls}): ${r.handlerCpuMsOneCallPoll} ms, ${fmt(r.cpuOverFloorOneCallPolls)}x the floor`],
    ];
    if (r.configBodyReads !== undefined) rows.push(['config body S3 reads', String(r.configBodyReads), `${r.configFiles} file(s); ${r.agentsApplied} agents APPLIED`]);
    out.push(...table(rows));
    if (r.logLineSamples.length) out.push(`  log line sample: ${r.logLineSamples[0]}`);
    out.push(...targets(r.targets));
    out.push('');
  }
  if (coldStart) {
    out.push(`== cold start: functions/entry/opamp.lambda.ts bundled as the stack does (${coldStart.bundling.source}; esm, ${coldStart.bundling.target}, minified, S3 client from the runtime on first use)`);
    out.push(...table([
      ['bundle size', `${coldStart.bundleKB} KB`, `${coldStart.bundleBytes} bytes`],
      ['module init (median of 5)', `${coldStart.initMsMedian} ms`, `runs ${coldStart.initMsRuns.join(', ')} ms (fastest ${coldStart.initMsMin})`],
      ['  with --enable-source-maps', `${coldStart.initMsMedianWithSourceMaps} ms`, 'NODE_OPTIONS as the stack sets it'],
      ['process start to ready', `${coldStart.sinceProcessStartMsMedian} ms`, `Node ${process.version} boot included`],
    ]));
    out.push(`  largest parts: ${coldStart.largestContributors.map((c) => `${c.name} ${c.kb} KB`).join(', ')}`);
    out.push(...targets(coldStart.targets));
    out.push('');
  }
  if (cost) {
    out.push(`== monthly cost (USD, ${cost.prices.region}, prices read ${cost.prices.readOn}; ${ctx.memoryMb} MB arm64; 30 days)`);
    out.push(costTable(cost));
    for (const n of cost.notes) out.push(`  - ${n}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
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
  const parts = Object.entries(map).filter(([k]) => keep.test(k)).map(([k, v]) => `${k.replace(':', ' ')} ${v}`);
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
