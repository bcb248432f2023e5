// Monthly cost of a fleet, from the measured steady-state figures and public
// AWS prices. Every price lives in AWS_PRICES; every assumption that is not a
// measurement lives in COST_ASSUMPTIONS.
import { readUnits, writeUnits } from './meter.js';
import type { ScenarioResult } from './scenarios.js';
import type { SteeringResult } from './steering.js';
import { crossovers, SERVER_ASSUMPTIONS, serverCost } from './crossover.js';
import type { Crossover, ServerCost } from './crossover.js';

/**
 * Public on-demand prices, us-east-1, read on the date below. Sources:
 * - Lambda: https://aws.amazon.com/lambda/pricing/ (requests $0.20 per million;
 *   Arm duration $0.0000133334 per GB-second, first 7.5 billion GB-s per month).
 * - DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   (after the November 2024 price cut: $0.125 per million read request units,
 *   $0.625 per million write request units; Standard table class).
 * - S3 Standard requests: https://aws.amazon.com/s3/pricing/ (GET $0.0004 per
 *   1,000; PUT $0.005 per 1,000).
 * - Data transfer out to the internet: https://aws.amazon.com/ec2/pricing/on-demand/
 *   ($0.09 per GB for the first 10 TB per month; the first 100 GB per month are
 *   free, which is NOT subtracted here).
 * - CloudWatch Logs ingestion of Lambda logs: https://aws.amazon.com/cloudwatch/pricing/
 *   ($0.50 per GB, first tier); custom metrics $0.30 per metric per month (first
 *   10,000, prorated by the hour).
 * Free tiers (Lambda's 1M requests and 400,000 GB-s, DynamoDB's 25 GB storage)
 * are ignored. Storage (DynamoDB GB-month, S3 GB-month) is not per poll and is
 * left out: a few KB per agent.
 */
export const AWS_PRICES = {
  region: 'us-east-1',
  readOn: '2026-11-26',
  lambdaRequestsPerMillion: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoReadRequestUnitsPerMillion: 0.125,
  dynamoWriteRequestUnitsPerMillion: 0.625,
  s3GetPerThousand: 0.0004,
  s3PutPerThousand: 0.005,
  dataTransferOutPerGb: 0.09,
  cloudWatchLogsIngestPerGb: 0.5,
  cloudWatchMetricPerMonth: 0.3,
} as const;

/** What the model assumes rather than measures. */
export const COST_ASSUMPTIONS = {
  daysPerMonth: 30,
  /**
   * Added to the measured in-process handler p50 to get billed duration: the
   * Lambda runtime's own work per invocation (Runtime API next/response round
   * trip, event JSON parse and response serialisation). Billed per 1 ms, rounded up.
   */
  runtimeOverheadMs: 1,
  /**
   * Bytes sent per reply beyond the body and the headers the handler returns:
   * status line, Date, x-amzn-RequestId, X-Amzn-Trace-Id and Connection headers
   * added by the Function URL front end (~180 B), plus TLS record framing (~22 B).
   */
  responseOverheadBytes: 200,
  /**
   * The Lambda platform writes START, END and REPORT lines per invocation to
   * CloudWatch Logs in the text log format. The stack sets the JSON log format
   * with systemLogLevel WARN, which drops them (see cdk/lib/opamp-function.ts),
   * so none are counted; `platformLogBytes()` is what they would add.
   */
  platformLogBytesPerInvocation: 0,
  /** Function instances are estimated as the mean concurrency (at least 1): a floor, real counts run higher. */
  instances: 'max(1, ceil(polls per second x billed seconds per poll))',
} as const;

/** What Lambda's own START/END/REPORT lines weigh per invocation in the text log format. */
export function platformLogBytes(): number {
  const id = '6f1c3a52-8e0d-4b7a-9c41-2d5e8f7a9b10';
  const lines = [
    `START RequestId: ${id} Version: $LATEST\n`,
    `END RequestId: ${id}\n`,
    `REPORT RequestId: ${id}\tDuration: 3.21 ms\tBilled Duration: 4 ms\tMemory Size: 256 MB\tMax Memory Used: 96 MB\t\n`,
  ];
  return lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
}

export const FLEET_SIZES = [1_000, 10_000, 100_000] as const;

/** The design before presence batches: a heartbeat rewrote the agent item once per this window. */
export const OLD_LAST_SEEN_REFRESH_SECONDS = 300;

export interface CostRow {
  agents: number;
  pollIntervalSeconds: number;
  pollsPerMonth: number;
  instances: number;
  lambdaRequests: number;
  lambdaDuration: number;
  dynamodb: number;
  s3: number;
  dataTransfer: number;
  logs: number;
  /** CloudWatch custom metrics the EMF documents create (per metric, not per poll). */
  metrics: number;
  total: number;
  /** The design before presence batches: per-agent last-seen refreshes of the agent item. */
  oldDynamodb: number;
  oldTotal: number;
  /** The naive design: one read and one whole-record write per poll. */
  naiveDynamodb: number;
  naiveTotal: number;
  /** DynamoDB units per month behind the figures. */
  readUnits: number;
  writeUnits: number;
  /** Where the per-poll figures come from (`steady 30 s, 200 agents`, `scale 10,000 agents`). */
  measuredBy?: string;
}

export interface CostModelResult {
  scenario: 'cost-model';
  prices: typeof AWS_PRICES;
  assumptions: Record<string, unknown>;
  inputs: Record<string, unknown>;
  rows: CostRow[];
  /** The always-on server at each fleet size and interval of `rows`, and where it becomes the cheaper one. */
  server: Array<ServerCost & { agents: number; pollIntervalSeconds: number }>;
  crossovers: Crossover[];
  notes: string[];
}

export interface CostInputs {
  /** Steady runs, one per poll interval. */
  steady: ScenarioResult[];
  /** Larger fleets measured at one interval (the scale scenario): used for the rows they match. */
  scale?: ScenarioResult[];
  memoryMb: number;
}

/** Share of a heartbeat poll that refreshes last-seen: one write per ceil(window / interval) polls. */
function refreshWritesPerPoll(intervalSeconds: number, windowSeconds: number): number {
  return 1 / Math.max(1, Math.ceil(windowSeconds / intervalSeconds));
}

/** What the model prices per poll, from one measured scenario (or phase of one). */
interface PollFigures {
  billedMs: number;
  agentRcuPerPoll: number;
  revalidationReadsPerInstanceSecond: number;
  rcuPerRevalidationRead: number;
  wcuPerPoll: number;
  s3CallsPerPoll: number;
  bytesOutPerPoll: number;
  logLineBytesPerPoll: number;
  emfBytesPerDocument: number;
  metricCount: number;
  naiveRcu: number;
  naiveWcu: number;
  /** Write units of one last-seen refresh of the agent item (the old design). */
  refreshWcu: number;
}

function pollFigures(measured: ScenarioResult): PollFigures {
  const revalidationReads = measured.revalidationReadsPerPoll * measured.polls;
  const revalidationRcu = Math.max(0, measured.rcuPerPoll - measured.agentRcuPerPoll) * measured.polls;
  return {
    billedMs: Math.ceil(measured.handlerP50Ms + COST_ASSUMPTIONS.runtimeOverheadMs),
    agentRcuPerPoll: measured.agentRcuPerPoll,
    revalidationReadsPerInstanceSecond: measured.simulatedSeconds > 0 ? revalidationReads / measured.simulatedSeconds : 0,
    rcuPerRevalidationRead: revalidationReads > 0 ? revalidationRcu / revalidationReads : 1,
    wcuPerPoll: measured.wcuPerPoll,
    s3CallsPerPoll: measured.s3CallsPerPoll,
    bytesOutPerPoll: measured.respBytesPerPoll + measured.respHeaderBytesPerPoll + COST_ASSUMPTIONS.responseOverheadBytes,
    logLineBytesPerPoll: Math.max(0, measured.logBytesPerPoll - measured.emfBytesPerPoll),
    emfBytesPerDocument: measured.emfDocuments > 0 ? (measured.emfBytesPerPoll * measured.polls) / measured.emfDocuments : 0,
    metricCount: measured.metricNames?.length ?? 0,
    naiveRcu: readUnits(measured.fullRecordBytes, true),
    naiveWcu: writeUnits(measured.fullRecordBytes),
    refreshWcu: writeUnits(measured.stateItemBytes),
  };
}

/** One fleet at one poll interval for a month; the write units per poll are scaled by `writeScale`. */
export function costRow(agents: number, interval: number, f: PollFigures, writeScale: number, memoryMb: number): CostRow {
  const p = AWS_PRICES;
  const a = COST_ASSUMPTIONS;
  const monthSeconds = a.daysPerMonth * 86_400;
  const gib = 1024 ** 3;
  const memoryGb = memoryMb / 1024;
  const polls = (agents * monthSeconds) / interval;
  const pollsPerSecond = agents / interval;
  const instances = Math.max(1, Math.ceil(pollsPerSecond * (f.billedMs / 1000)));
  const lambdaRequests = (polls / 1e6) * p.lambdaRequestsPerMillion;
  const lambdaDuration = polls * (f.billedMs / 1000) * memoryGb * p.lambdaArmPerGbSecond;
  const reads = polls * f.agentRcuPerPoll + instances * f.revalidationReadsPerInstanceSecond * monthSeconds * f.rcuPerRevalidationRead;
  const writes = polls * f.wcuPerPoll * writeScale;
  const readCost = (reads / 1e6) * p.dynamoReadRequestUnitsPerMillion;
  const dynamodb = readCost + (writes / 1e6) * p.dynamoWriteRequestUnitsPerMillion;
  const s3 = ((polls * f.s3CallsPerPoll) / 1000) * p.s3GetPerThousand;
  const dataTransfer = ((polls * f.bytesOutPerPoll) / gib) * p.dataTransferOutPerGb;
  // One EMF document per instance per minute at most (the metric flush interval), log lines per poll, platform lines per invocation.
  const emfDocs = Math.min(instances * (monthSeconds / 60), polls);
  const logBytes = polls * (f.logLineBytesPerPoll + a.platformLogBytesPerInvocation) + emfDocs * f.emfBytesPerDocument;
  const logs = (logBytes / gib) * p.cloudWatchLogsIngestPerGb;
  const metrics = f.metricCount * p.cloudWatchMetricPerMonth;
  const total = lambdaRequests + lambdaDuration + dynamodb + s3 + dataTransfer + logs + metrics;
  const oldWrites = polls * refreshWritesPerPoll(interval, OLD_LAST_SEEN_REFRESH_SECONDS) * f.refreshWcu;
  const oldDynamodb = readCost + (oldWrites / 1e6) * p.dynamoWriteRequestUnitsPerMillion;
  const naiveDynamodb = polls * ((f.naiveRcu / 1e6) * p.dynamoReadRequestUnitsPerMillion + (f.naiveWcu / 1e6) * p.dynamoWriteRequestUnitsPerMillion);
  return {
    agents,
    pollIntervalSeconds: interval,
    pollsPerMonth: Math.round(polls),
    instances,
    lambdaRequests: cents(lambdaRequests),
    lambdaDuration: cents(lambdaDuration),
    dynamodb: cents(dynamodb),
    s3: cents(s3),
    dataTransfer: cents(dataTransfer),
    logs: cents(logs),
    metrics: cents(metrics),
    total: cents(total),
    oldDynamodb: cents(oldDynamodb),
    oldTotal: cents(total - dynamodb + oldDynamodb),
    naiveDynamodb: cents(naiveDynamodb),
    naiveTotal: cents(total - dynamodb + naiveDynamodb),
    readUnits: Math.round(reads),
    writeUnits: Math.round(writes),
  };
}

/**
 * Every fleet size at every measured interval, each row priced from the
 * steady run at its interval, or from a scale run of the same fleet size and
 * interval when there is one. Nothing is extrapolated from another interval.
 */
export function costModel({ steady, scale = [], memoryMb }: CostInputs): CostModelResult {
  const a = COST_ASSUMPTIONS;
  const rows: CostRow[] = [];
  const byInterval = [...steady].sort((x, y) => (x.pollIntervalSeconds ?? 30) - (y.pollIntervalSeconds ?? 30));
  for (const agents of FLEET_SIZES) {
    for (const run of byInterval) {
      const interval = run.pollIntervalSeconds ?? 30;
      const exact = scale.find((s) => s.agents === agents && s.pollIntervalSeconds === interval);
      const measured = exact ? { ...exact, fullRecordBytes: run.fullRecordBytes, stateItemBytes: run.stateItemBytes } : run;
      rows.push({ ...costRow(agents, interval, pollFigures(measured), 1, memoryMb), measuredBy: `${measured.scenario} ${interval} s, ${measured.agents.toLocaleString('en-US')} agents` });
    }
  }
  const first = byInterval[0]!;
  const f = pollFigures(first);
  const server = rows.map((r) => ({ agents: r.agents, pollIntervalSeconds: r.pollIntervalSeconds, ...serverCost(r.agents, r.pollIntervalSeconds, f.bytesOutPerPoll) }));
  const figuresAt = new Map(byInterval.map((r) => [r.pollIntervalSeconds ?? 30, pollFigures(r)]));
  const crossing = crossovers([...figuresAt.keys()], (agents, interval) => costRow(agents, interval, figuresAt.get(interval)!, 1, memoryMb), f.bytesOutPerPoll);
  // Sensitivity: a 256 MB function gets about memory/1769 of a vCPU, so CPU-bound work runs slower than here.
  const cpuShare = Math.min(1, memoryMb / 1769);
  const ioMs = Math.max(0, first.handlerP50Ms - first.handlerCpuMsPerPoll);
  const throttledBilledMs = Math.ceil(ioMs + first.handlerCpuMsPerPoll / cpuShare + a.runtimeOverheadMs);
  const notes = [
    ...byInterval.map(
      (r) =>
        `${r.pollIntervalSeconds ?? 30} s polls (steady, ${r.agents} agents): ${r.wcuPerPoll} WCU per poll (presence batches ${r.presence?.wcuPerPoll ?? 0}), ${r.agentRcuPerPoll} agent-item RCU per poll, billed ${pollFigures(r).billedMs} ms (p50 ${r.handlerP50Ms} ms)`,
    ),
    ...scale.map(
      (r) =>
        `${r.pollIntervalSeconds} s polls (scale, ${r.agents.toLocaleString('en-US')} agents): ${r.wcuPerPoll} WCU per poll, ${r.presence?.itemsPerInstanceMinute ?? 0} presence items per instance-minute of ${r.presence?.meanItemBytes ?? 0} B; billed ${pollFigures(r).billedMs} ms (p50 ${r.handlerP50Ms} ms)`,
    ),
    `presence batches are written by one function instance here; more instances write more, smaller batches (at least 1 WCU each, about ${(AWS_PRICES.dynamoWriteRequestUnitsPerMillion * 43_200) / 1e6} USD per instance per month at one batch a minute)`,
    `DynamoDB reads: the agent item per poll (measured) + per instance ${round3(f.revalidationReadsPerInstanceSecond * 60)} revalidation reads per minute (measured; fleet state and agent tokens)`,
    `old design: the same, but a heartbeat rewrote the ${first.stateItemBytes}-byte agent item (${f.refreshWcu} WCU) once per ${OLD_LAST_SEEN_REFRESH_SECONDS} s instead of presence batches`,
    `naive design: one strongly consistent read (${f.naiveRcu} RCU) and one write (${f.naiveWcu} WCU) of the whole ${first.fullRecordBytes}-byte agent record per poll`,
    `data transfer out: ${round3(f.bytesOutPerPoll)} bytes per reply (body ${first.respBytesPerPoll} + handler headers ${first.respHeaderBytesPerPoll} + ${a.responseOverheadBytes} assumed front-end headers and TLS); requests in are free; the free 100 GB per month is not subtracted`,
    `logs: ${round3(f.logLineBytesPerPoll)} B of log lines per poll (measured) + one EMF document (${Math.round(f.emfBytesPerDocument)} B, measured) per instance per minute; Lambda's START/END/REPORT lines (${platformLogBytes()} B per invocation in the text format) are not written: the stack sets JSON logs with system log level WARN`,
    `metrics: ${f.metricCount} custom metric(s) in the measured EMF documents (${first.metricNames?.join(', ') || 'none'}) at ${AWS_PRICES.cloudWatchMetricPerMonth} USD per metric-month; event metrics appear only in hours with events`,
    `CPU sensitivity: at ${memoryMb} MB Lambda gives about ${Math.round(cpuShare * 100)}% of a vCPU; if the measured ${first.handlerCpuMsPerPoll} ms of CPU per poll ran at that share, billed duration would be about ${throttledBilledMs} ms and Lambda duration cost ${round3(throttledBilledMs / f.billedMs)}x the figures above`,
    'storage (DynamoDB GB-month for agent items and presence batches kept for about an hour, S3 for configurations) is a few cents and left out',
    `always-on server: ${SERVER_ASSUMPTIONS.minInstances} or more ${SERVER_ASSUMPTIONS.instanceType} (${SERVER_ASSUMPTIONS.pollsPerSecondPerInstance} polls/s each, assumed) with ${SERVER_ASSUMPTIONS.ebsGbPerInstance} GB gp3 each, behind an Application Load Balancer (hourly + LCUs from new connections, active connections and bytes; a new connection per poll when the interval exceeds its ${SERVER_ASSUMPTIONS.idleTimeoutSeconds} s idle timeout); same data out; not priced: ${SERVER_ASSUMPTIONS.notPriced}`,
  ];
  return {
    scenario: 'cost-model',
    prices: AWS_PRICES,
    assumptions: { ...COST_ASSUMPTIONS, memoryMb, oldLastSeenRefreshSeconds: OLD_LAST_SEEN_REFRESH_SECONDS, throttledBilledMsPerPoll: throttledBilledMs },
    inputs: {
      steady: byInterval.map((r) => ({
        pollIntervalSeconds: r.pollIntervalSeconds ?? 30,
        agents: r.agents,
        handlerP50Ms: r.handlerP50Ms,
        agentRcuPerPoll: r.agentRcuPerPoll,
        wcuPerPoll: r.wcuPerPoll,
        s3CallsPerPoll: r.s3CallsPerPoll,
      })),
      scale: scale.map((r) => ({ pollIntervalSeconds: r.pollIntervalSeconds, agents: r.agents, handlerP50Ms: r.handlerP50Ms, wcuPerPoll: r.wcuPerPoll })),
      fullRecordBytes: first.fullRecordBytes,
      stateItemBytes: first.stateItemBytes,
      metricNames: first.metricNames ?? [],
    },
    rows,
    server,
    crossovers: crossing,
    notes,
  };
}

/** Where the always-on server becomes the cheaper one, as Markdown. */
export function crossoverTable(model: CostModelResult): string {
  const header = ['poll', 'this design is cheaper up to', 'this design there', 'always-on server there'];
  return markdownTable(
    header,
    1,
    model.crossovers.map((c) => [
      intervalText(c.pollIntervalSeconds),
      c.cheaperUpToAgents === undefined ? 'beyond 10,000,000 agents' : `${c.cheaperUpToAgents.toLocaleString('en-US')} agents`,
      usd(c.serverlessAtCrossover),
      usd(c.serverAtCrossover),
    ]),
  );
}

/** A fleet at a poll interval the server steered it to, priced from that interval's own measurements. */
export interface IntervalCostRow extends CostRow {
  /** The idle interval the server offered in the measuring run (0: not steered, the client's 30 s). */
  idleSeconds: number;
  /** Measured while settled at this interval. */
  wcuPerPoll: number;
  writesPerAgentHour: number;
  wcuPerAgentHour: number;
  /** How long a configuration change took to reach the agents at this interval (measured). */
  deliveryMeanSeconds: number;
  deliveryP95Seconds: number;
  deliveryMaxSeconds: number;
}

export interface IntervalCostResult {
  scenario: 'cost-by-poll-interval';
  /** The bench command that measured these figures. */
  command: string;
  prices: typeof AWS_PRICES;
  assumptions: Record<string, unknown>;
  rows: IntervalCostRow[];
  notes: string[];
}

/**
 * The monthly cost at each interval the steering scenario ran, every row priced
 * from that run's settled-phase figures (no scaling): the presence batches
 * written at each interval are in its measured write units.
 */
export function intervalCostModel({ steering, memoryMb, command }: { steering: SteeringResult; memoryMb: number; command: string }): IntervalCostResult {
  const runs = [...steering.runs].sort((x, y) => x.pollIntervalSeconds - y.pollIntervalSeconds);
  const rows: IntervalCostRow[] = [];
  for (const agents of FLEET_SIZES) {
    for (const run of runs) {
      rows.push({
        ...costRow(agents, run.pollIntervalSeconds, pollFigures(run.settled), 1, memoryMb),
        idleSeconds: run.idleSeconds,
        wcuPerPoll: run.settled.wcuPerPoll,
        writesPerAgentHour: run.writesPerAgentHour,
        wcuPerAgentHour: run.wcuPerAgentHour,
        deliveryMeanSeconds: run.delivery.meanSeconds,
        deliveryP95Seconds: run.delivery.p95Seconds,
        deliveryMaxSeconds: run.delivery.maxSeconds,
      });
    }
  }
  const notes = [
    ...runs.map((run) => {
      const f = pollFigures(run.settled);
      const s = run.settled;
      return (
        `${steeredLabel(run.idleSeconds)}: measured over ${run.settledSeconds} s settled at ${run.pollIntervalSeconds} s polls (${s.polls} polls, ${steering.agents} agents): ` +
        `${s.agentRcuPerPoll} agent-item RCU + ${round3(f.revalidationReadsPerInstanceSecond * 60)} revalidation reads per instance-minute, ` +
        `${s.wcuPerPoll} WCU (${s.ddbWritesPerPoll} write calls) per poll = ${run.writesPerAgentHour} writes (${run.wcuPerAgentHour} WCU) per agent-hour, ${s.s3CallsPerPoll} S3 calls per poll, ` +
        `billed ${f.billedMs} ms per poll (p50 ${s.handlerP50Ms} ms), ${round3(f.bytesOutPerPoll)} bytes out per reply`
      );
    }),
    `one configuration change costs, per agent, the polls and writes in the steering section ("change"); it is not in these monthly figures`,
    `delivery: from the change being ingested to the agent receiving it, with one function instance whose fleet cache revalidates every ${steering.fleetRevalidateSeconds} s; APPLIED reaches the server ${steering.applyDelaySeconds} s later (assumed supervisor apply time)`,
  ];
  return {
    scenario: 'cost-by-poll-interval',
    command,
    prices: AWS_PRICES,
    assumptions: { ...COST_ASSUMPTIONS, memoryMb, lastSeenRefreshSeconds: steering.lastSeenRefreshSeconds },
    rows,
    notes,
  };
}

function steeredLabel(idleSeconds: number): string {
  return idleSeconds > 0 ? `idle interval ${idleSeconds} s` : 'steering off (client default 30 s)';
}

const cents = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const usd = (x: number) => (x >= 1000 ? `$${Math.round(x).toLocaleString('en-US')}` : `$${x.toFixed(2)}`);

/** The cost table as Markdown (printed by the bench and pasted into docs/operations/cost-and-benchmarks.md). */
export function costTable(model: CostModelResult): string {
  const header = [
    'agents',
    'poll',
    'polls/month',
    'Lambda requests',
    'Lambda duration',
    'DynamoDB',
    'S3',
    'data out',
    'logs',
    'metrics',
    'total',
    'old design DynamoDB',
    'old design total',
    'naive total',
    'always-on server',
  ];
  return markdownTable(
    header,
    2,
    model.rows.map((r, i) => [
      r.agents.toLocaleString('en-US'),
      intervalText(r.pollIntervalSeconds),
      millionsText(r.pollsPerMonth),
      ...costCells(r),
      usd(r.oldDynamodb),
      usd(r.oldTotal),
      usd(r.naiveTotal),
      usd(model.server[i]?.total ?? 0),
    ]),
  );
}

/** The cost by poll interval as Markdown, with the delivery time each interval gives. */
export function intervalCostTable(model: IntervalCostResult): string {
  const header = [
    'agents',
    'poll',
    'steered',
    'polls/month',
    'writes / WCU per agent-hour',
    'Lambda requests',
    'Lambda duration',
    'DynamoDB',
    'S3',
    'data out',
    'logs',
    'metrics',
    'total',
    'change delivery mean / p95 / max',
  ];
  return markdownTable(
    header,
    3,
    model.rows.map((r) => [
      r.agents.toLocaleString('en-US'),
      intervalText(r.pollIntervalSeconds),
      r.idleSeconds > 0 ? 'yes' : 'no',
      millionsText(r.pollsPerMonth),
      `${r.writesPerAgentHour} / ${r.wcuPerAgentHour}`,
      ...costCells(r),
      `${r.deliveryMeanSeconds} / ${r.deliveryP95Seconds} / ${r.deliveryMaxSeconds} s`,
    ]),
  );
}

/** The monthly cost columns both tables share, the total in bold. */
function costCells(r: { lambdaRequests: number; lambdaDuration: number; dynamodb: number; s3: number; dataTransfer: number; logs: number; metrics: number; total: number }): string[] {
  return [usd(r.lambdaRequests), usd(r.lambdaDuration), usd(r.dynamodb), usd(r.s3), usd(r.dataTransfer), usd(r.logs), usd(r.metrics), `**${usd(r.total)}**`];
}

function intervalText(seconds: number): string {
  return seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`;
}

function millionsText(count: number): string {
  return `${(count / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} M`;
}

/** A Markdown table; the first `leftColumns` columns are left-aligned, the rest (figures) right-aligned. */
function markdownTable(header: readonly string[], leftColumns: number, rows: ReadonlyArray<readonly string[]>): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map((_h, i) => (i < leftColumns ? '---' : '---:')).join(' | ')} |`, ...rows.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}
