// Monthly cost of a fleet, from the measured steady-state figures and public
// AWS prices. Every price lives in AWS_PRICES; every assumption that is not a
// measurement lives in COST_ASSUMPTIONS.
import { readUnits, writeUnits } from './meter.js';
import type { ScenarioResult } from './scenarios.js';

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
 *   ($0.50 per GB, first tier).
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
export const POLL_INTERVALS_SECONDS = [30, 300] as const;

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
  total: number;
  /** The naive design: one read and one whole-record write per poll. */
  naiveDynamodb: number;
  naiveTotal: number;
  /** DynamoDB units per month behind the figures. */
  readUnits: number;
  writeUnits: number;
}

export interface CostModelResult {
  scenario: 'cost-model';
  prices: typeof AWS_PRICES;
  assumptions: Record<string, unknown>;
  inputs: Record<string, number>;
  rows: CostRow[];
  notes: string[];
}

export interface CostInputs {
  steady: ScenarioResult;
  benchPollIntervalSeconds: number;
  lastSeenRefreshSeconds: number;
  memoryMb: number;
}

/** Share of a heartbeat poll that refreshes last-seen: one write per ceil(window / interval) polls. */
function refreshWritesPerPoll(intervalSeconds: number, windowSeconds: number): number {
  return 1 / Math.max(1, Math.ceil(windowSeconds / intervalSeconds));
}

export function costModel({ steady, benchPollIntervalSeconds, lastSeenRefreshSeconds, memoryMb }: CostInputs): CostModelResult {
  const p = AWS_PRICES;
  const a = COST_ASSUMPTIONS;
  const monthSeconds = a.daysPerMonth * 86_400;
  const gib = 1024 ** 3;
  const memoryGb = memoryMb / 1024;
  const billedMs = Math.ceil(steady.handlerP50Ms + a.runtimeOverheadMs);

  // Per-poll figures measured in `steady` (30 s polls).
  const agentRcuPerPoll = steady.agentRcuPerPoll;
  const revalidationReads = steady.revalidationReadsPerPoll * steady.polls;
  const revalidationRcu = Math.max(0, steady.rcuPerPoll - steady.agentRcuPerPoll) * steady.polls;
  const revalidationReadsPerInstanceSecond = steady.simulatedSeconds > 0 ? revalidationReads / steady.simulatedSeconds : 0;
  const rcuPerRevalidationRead = revalidationReads > 0 ? revalidationRcu / revalidationReads : 1;
  // Every steady write is a last-seen refresh (nothing else changes), so writes scale with the refresh rate.
  const benchRefreshRate = refreshWritesPerPoll(benchPollIntervalSeconds, lastSeenRefreshSeconds);
  const emfBytesPerDocument = steady.emfDocuments > 0 ? (steady.emfBytesPerPoll * steady.polls) / steady.emfDocuments : 0;
  const logLineBytesPerPoll = Math.max(0, steady.logBytesPerPoll - steady.emfBytesPerPoll);
  const bytesOutPerPoll = steady.respBytesPerPoll + steady.respHeaderBytesPerPoll + a.responseOverheadBytes;
  const naiveRcu = readUnits(steady.fullRecordBytes, true);
  const naiveWcu = writeUnits(steady.fullRecordBytes);

  const rows: CostRow[] = [];
  for (const agents of FLEET_SIZES) {
    for (const interval of POLL_INTERVALS_SECONDS) {
      const polls = (agents * monthSeconds) / interval;
      const pollsPerSecond = agents / interval;
      const instances = Math.max(1, Math.ceil(pollsPerSecond * (billedMs / 1000)));
      const lambdaRequests = (polls / 1e6) * p.lambdaRequestsPerMillion;
      const lambdaDuration = polls * (billedMs / 1000) * memoryGb * p.lambdaArmPerGbSecond;
      const reads = polls * agentRcuPerPoll + instances * revalidationReadsPerInstanceSecond * monthSeconds * rcuPerRevalidationRead;
      const writes = polls * steady.wcuPerPoll * (refreshWritesPerPoll(interval, lastSeenRefreshSeconds) / benchRefreshRate);
      const dynamodb = (reads / 1e6) * p.dynamoReadRequestUnitsPerMillion + (writes / 1e6) * p.dynamoWriteRequestUnitsPerMillion;
      const s3 = ((polls * steady.s3CallsPerPoll) / 1000) * p.s3GetPerThousand;
      const dataTransfer = ((polls * bytesOutPerPoll) / gib) * p.dataTransferOutPerGb;
      // One EMF document per instance per minute at most (the metric flush interval), log lines per poll, platform lines per invocation.
      const emfDocs = Math.min(instances * (monthSeconds / 60), polls);
      const logBytes = polls * (logLineBytesPerPoll + a.platformLogBytesPerInvocation) + emfDocs * emfBytesPerDocument;
      const logs = (logBytes / gib) * p.cloudWatchLogsIngestPerGb;
      const total = lambdaRequests + lambdaDuration + dynamodb + s3 + dataTransfer + logs;
      const naiveDynamodb = polls * ((naiveRcu / 1e6) * p.dynamoReadRequestUnitsPerMillion + (naiveWcu / 1e6) * p.dynamoWriteRequestUnitsPerMillion);
      const naiveTotal = total - dynamodb + naiveDynamodb;
      rows.push({
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
        total: cents(total),
        naiveDynamodb: cents(naiveDynamodb),
        naiveTotal: cents(naiveTotal),
        readUnits: Math.round(reads),
        writeUnits: Math.round(writes),
      });
    }
  }

  // Sensitivity: a 256 MB function gets about memory/1769 of a vCPU, so CPU-bound work runs slower than here.
  const cpuShare = Math.min(1, memoryMb / 1769);
  const ioMs = Math.max(0, steady.handlerP50Ms - steady.handlerCpuMsPerPoll);
  const throttledBilledMs = Math.ceil(ioMs + steady.handlerCpuMsPerPoll / cpuShare + a.runtimeOverheadMs);
  const notes = [
    `billed duration ${billedMs} ms per poll = ceil(handler p50 ${steady.handlerP50Ms} ms + ${a.runtimeOverheadMs} ms runtime overhead), ${memoryMb} MB, arm64`,
    `DynamoDB reads: ${agentRcuPerPoll} RCU per poll for the agent item (measured) + per instance ${round3(revalidationReadsPerInstanceSecond * 60)} revalidation reads per minute (measured; fleet state and agent tokens)`,
    `DynamoDB writes: measured ${steady.wcuPerPoll} WCU per poll at ${benchPollIntervalSeconds} s, all of them last-seen refreshes (one per ${lastSeenRefreshSeconds} s window: every ${Math.ceil(lastSeenRefreshSeconds / benchPollIntervalSeconds)} polls); at a ${POLL_INTERVALS_SECONDS[1]} s interval every ${Math.ceil(lastSeenRefreshSeconds / POLL_INTERVALS_SECONDS[1])} poll(s) refreshes, so writes per poll scale by ${round3(refreshWritesPerPoll(POLL_INTERVALS_SECONDS[1], lastSeenRefreshSeconds) / benchRefreshRate)}x`,
    `data transfer out: ${round3(bytesOutPerPoll)} bytes per reply (body ${steady.respBytesPerPoll} + handler headers ${steady.respHeaderBytesPerPoll} + ${a.responseOverheadBytes} assumed front-end headers and TLS); requests in are free; the free 100 GB per month is not subtracted`,
    `logs: ${round3(logLineBytesPerPoll)} B of log lines per poll (measured) + one EMF document (${Math.round(emfBytesPerDocument)} B, measured) per instance per minute; Lambda's START/END/REPORT lines (${platformLogBytes()} B per invocation in the text format) are not written: the stack sets JSON logs with system log level WARN`,
    `naive design: one strongly consistent read (${naiveRcu} RCU) and one write (${naiveWcu} WCU) of the whole ${steady.fullRecordBytes}-byte agent record (state + description + health + effective config, measured after the first full report) per poll`,
    `CPU sensitivity: at ${memoryMb} MB Lambda gives about ${Math.round(cpuShare * 100)}% of a vCPU; if the measured ${steady.handlerCpuMsPerPoll} ms of CPU per poll ran at that share, billed duration would be about ${throttledBilledMs} ms and Lambda duration cost ${round3(throttledBilledMs / billedMs)}x the figures above`,
  ];
  return {
    scenario: 'cost-model',
    prices: AWS_PRICES,
    assumptions: { ...COST_ASSUMPTIONS, billedMsPerPoll: billedMs, memoryMb, lastSeenRefreshSeconds, throttledBilledMsPerPoll: throttledBilledMs },
    inputs: {
      handlerP50Ms: steady.handlerP50Ms,
      agentRcuPerPoll,
      rcuPerPoll: steady.rcuPerPoll,
      wcuPerPoll: steady.wcuPerPoll,
      revalidationReadsPerInstanceMinute: round3(revalidationReadsPerInstanceSecond * 60),
      s3CallsPerPoll: steady.s3CallsPerPoll,
      bytesOutPerPoll: round3(bytesOutPerPoll),
      logLineBytesPerPoll: round3(logLineBytesPerPoll),
      emfBytesPerDocument: Math.round(emfBytesPerDocument),
      fullRecordBytes: steady.fullRecordBytes,
      naiveRcuPerPoll: naiveRcu,
      naiveWcuPerPoll: naiveWcu,
    },
    rows,
    notes,
  };
}

const cents = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const usd = (x: number) => (x >= 1000 ? `$${Math.round(x).toLocaleString('en-US')}` : `$${x.toFixed(2)}`);

/** The cost table as Markdown (printed by the bench and pasted into the README). */
export function costTable(model: CostModelResult): string {
  const header = ['agents', 'poll', 'polls/month', 'Lambda requests', 'Lambda duration', 'DynamoDB', 'S3', 'data out', 'logs', 'total', 'naive DynamoDB', 'naive total'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((h, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];
  for (const r of model.rows) {
    lines.push(`| ${[
      r.agents.toLocaleString('en-US'),
      r.pollIntervalSeconds >= 60 ? `${r.pollIntervalSeconds / 60} min` : `${r.pollIntervalSeconds} s`,
      `${(r.pollsPerMonth / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} M`,
      usd(r.lambdaRequests),
      usd(r.lambdaDuration),
      usd(r.dynamodb),
      usd(r.s3),
      usd(r.dataTransfer),
      usd(r.logs),
      `**${usd(r.total)}**`,
      usd(r.naiveDynamodb),
      usd(r.naiveTotal),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}
