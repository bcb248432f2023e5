import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { loadConfig } from '../../functions/config.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import { createBackend } from '../../functions/entry/backend.js';
import type { Backend } from '../../functions/entry/backend.js';
import { AgentToServerSchema, ServerErrorResponseType, ServerToAgentFlags, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { FAULTS, startFaultProxy } from '../support/fault-proxy.js';
import type { Fault, FaultProxy } from '../support/fault-proxy.js';
import { COLLECTOR_CAPS, agentToServer, fullReport, health, heartbeat, newUidBytes } from '../support/messages.js';
import { provisionStores } from './harness.js';

/**
 * Store faults over the wire: the real app, wired as in AWS, talks to dynalite
 * and s3rver through a proxy that throttles, fails, hangs, resets or cuts
 * answers short per operation. Whatever the fault, a request is answered in
 * time, 200 only when its state was saved, else 503 with Retry-After; once the
 * fault clears, the agent's record is right.
 */

/** Generous: the deadlines below are 0.6 s (poll, fleet API) and 0.3 s (health). */
const UPPER_BOUND_MS = 3_500;

let dynamo: FaultProxy;
let s3: FaultProxy;
let tables: Awaited<ReturnType<typeof provisionStores>>;

function backendOver(env: Record<string, string>): Backend {
  const config = loadConfig({ OPAMP_TABLE: tables.tableName, OPAMP_BUCKET: tables.bucketName, ...env });
  const clients = createAwsClients({ dynamodbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, emulated: true, timeouts: config.storeTimeouts });
  return createBackend({ config, clients, telemetry: NO_TELEMETRY });
}

let backend: Backend;

beforeAll(async () => {
  tables = await provisionStores();
  dynamo = await startFaultProxy(inject('dynamodbEndpoint'), 'dynamodb');
  s3 = await startFaultProxy(inject('s3Endpoint'), 's3');
  backend = backendOver({
    OPAMP_POLL_DEADLINE_SECONDS: '0.6',
    OPAMP_HEALTH_DEADLINE_SECONDS: '0.3',
    OPAMP_API_DEADLINE_SECONDS: '0.6',
    OPAMP_STORE_CONNECT_TIMEOUT_SECONDS: '0.3',
    // Longer than the deadlines: three attempts would take 4.5 s, so only the deadline keeps a hang in bounds.
    OPAMP_STORE_REQUEST_TIMEOUT_SECONDS: '1.5',
  });
});

afterEach(() => {
  dynamo.clear();
  s3.clear();
});

afterAll(async () => {
  await dynamo?.close();
  await s3?.close();
});

interface Answer {
  status: number;
  retryAfter: string | null;
  elapsedMs: number;
  reply?: ServerToAgent;
  json?: unknown;
}

async function timed(app: Backend['app'], path: string, init?: RequestInit): Promise<Answer> {
  const started = performance.now();
  const res = await app.request(path, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const elapsedMs = performance.now() - started;
  const answer: Answer = { status: res.status, retryAfter: res.headers.get('retry-after'), elapsedMs };
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('protobuf')) answer.reply = fromBinary(ServerToAgentSchema, bytes);
  if (type.includes('json')) answer.json = JSON.parse(new TextDecoder().decode(bytes));
  return answer;
}

function poll(message: AgentToServer, app = backend.app): Promise<Answer> {
  return timed(app, '/v1/opamp', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: toBinary(AgentToServerSchema, message) });
}

/**
 * Sends a message as an agent does once the store is healthy again: a 503
 * (the deadlines are short and the machine may be busy) is sent again.
 */
async function untilAnswered(request: () => Promise<Answer>): Promise<Answer> {
  let answer = await request();
  for (let attempt = 1; answer.status === 503 && attempt < 5; attempt++) answer = await request();
  expect(answer.status).toBe(200);
  return answer;
}

const delivered = (message: AgentToServer, app = backend.app) => untilAnswered(() => poll(message, app));

/** Either saved (200) or refused as retryable (503 with Retry-After), in time. */
function expectAnsweredInTime(answer: Answer): void {
  expect(answer.elapsedMs).toBeLessThan(UPPER_BOUND_MS);
  expect([200, 503]).toContain(answer.status);
  if (answer.status === 503) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
}

async function agentView(uid: Uint8Array): Promise<{ health: { lastError?: string } | null }> {
  const answer = await untilAnswered(() => timed(backend.app, `/api/v1/agents/${instanceUidToText(uid)}`));
  return answer.json as { health: { lastError?: string } | null };
}

const asksFullState = (reply: ServerToAgent | undefined) => ((reply?.flags ?? 0n) & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)) !== 0n;

const POLL_OPERATIONS: Array<[string, RegExp]> = [
  ['the record read', /^(GetItem|BatchGetItem)$/],
  ['the section write', /^BatchWriteItem$/],
  ['the record write', /^PutItem$/],
];

describe('a poll whose DynamoDB misbehaves', () => {
  const cases = POLL_OPERATIONS.flatMap(([name, operation]) => FAULTS.map((fault) => [name, fault, operation] as const));

  it.each(cases)('%s: %s', async (name, fault: Fault, operation) => {
    // Prepare: a known agent, then a change to report while the fault is on.
    const uid = newUidBytes();
    await delivered(fullReport(uid, 1n));
    const label = `${fault} on ${name}`;
    const change = agentToServer({ instanceUid: uid, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, health: health(false, {}, label) });
    dynamo.inject(operation, fault);

    // Act
    const faulted = await poll(change);
    dynamo.clear();

    // Assess: the fault was met, the poll answered in time, and a 200 means the change is stored.
    expect(dynamo.log.some((entry) => entry.fault === fault && operation.test(entry.operation))).toBe(true);
    expectAnsweredInTime(faulted);
    if (faulted.status === 200) expect((await agentView(uid)).health?.lastError).toBe(label);
    // A refusal the agent can read: Unavailable, with the same retry advice.
    if (faulted.status === 503) expect(faulted.reply?.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_Unavailable);
    // The agent sends a refused message again; then the next heartbeat finds everything in order.
    if (faulted.status === 503) await delivered(change);
    const next = await delivered(heartbeat(uid, 3n));
    expect(asksFullState(next.reply)).toBe(false);
    expect((await agentView(uid)).health?.lastError).toBe(label);
  });
});

describe('GET /healthz while DynamoDB misbehaves', () => {
  it.each(FAULTS)('%s: answers 503 in time, and 200 once the fault clears', async (fault) => {
    // Prepare
    dynamo.inject(/.*/, fault);

    // Act
    const faulted = await timed(backend.app, '/healthz');
    dynamo.clear();
    const healed = await untilAnswered(() => timed(backend.app, '/healthz'));

    // Assess
    expect(faulted.status).toBe(503);
    expect(faulted.elapsedMs).toBeLessThan(2_000);
    expect(healed.status).toBe(200);
  });
});

describe('a fleet API read while DynamoDB misbehaves', () => {
  it.each(FAULTS)('%s: GET /api/v1/agents answers 503 with Retry-After in time, then lists the agent', async (fault) => {
    // Prepare
    const uid = newUidBytes();
    await delivered(fullReport(uid, 1n));
    dynamo.inject('Scan', fault);

    // Act
    const faulted = await timed(backend.app, '/api/v1/agents?limit=1000');
    dynamo.clear();
    const healed = await untilAnswered(() => timed(backend.app, '/api/v1/agents?limit=1000'));

    // Assess
    expect(faulted.elapsedMs).toBeLessThan(UPPER_BOUND_MS);
    expect(faulted.status).toBe(503);
    expect(Number(faulted.retryAfter)).toBeGreaterThan(0);
    expect(healed.status).toBe(200);
    const listed = (healed.json as { agents: Array<{ instanceUid: string }> }).agents.map((a) => a.instanceUid);
    expect(listed).toContain(instanceUidToText(uid));
  });
});

describe('a poll whose configuration body cannot be read from S3', () => {
  const CONFIG = 'receivers: {}\nexporters: {}\n';

  beforeAll(async () => {
    await tables.clients.s3.send(new PutObjectCommand({ Bucket: tables.bucketName, Key: 'configs/default/collector.yaml', Body: CONFIG }));
    await backend.ingest.reconcile();
  });

  it.each(FAULTS)('%s: the offer is answered in time, and delivered once the fault clears', async (fault) => {
    // Prepare: a function instance whose configuration cache is empty, and a new agent that accepts configurations.
    const fresh = backendOver({ OPAMP_POLL_DEADLINE_SECONDS: '0.6', OPAMP_STORE_CONNECT_TIMEOUT_SECONDS: '0.3', OPAMP_STORE_REQUEST_TIMEOUT_SECONDS: '1.5' });
    const uid = newUidBytes();
    const operation = /^GET \/[^/]+\/configs\//;
    s3.inject(operation, fault);

    // Act
    const faulted = await poll(fullReport(uid, 1n), fresh.app);
    s3.clear();
    const retried = faulted.status === 503 ? await delivered(fullReport(uid, 1n), fresh.app) : faulted;
    const next = await delivered(heartbeat(uid, 2n), fresh.app);

    // Assess: the fault was met; whichever reply offered the configuration carried it whole.
    expect(s3.log.some((entry) => entry.fault === fault && operation.test(entry.operation))).toBe(true);
    expectAnsweredInTime(faulted);
    const offers = [retried, next].map((a) => a.reply?.remoteConfig).filter((offer) => offer !== undefined);
    expect(offers.length).toBeGreaterThan(0);
    for (const offer of offers) expect(new TextDecoder().decode(offer.config?.configMap['collector.yaml']?.body)).toBe(CONFIG);
  });
});

describe('the default deadlines', () => {
  it('answer a poll within 3 s and /healthz within 2 s when DynamoDB does not answer at all', async () => {
    // Prepare: the documented defaults, nothing shortened.
    const defaults = backendOver({});
    const uid = newUidBytes();
    dynamo.inject(/.*/, 'hang');

    // Act
    const [polled, checked] = await Promise.all([poll(fullReport(uid, 1n), defaults.app), timed(defaults.app, '/healthz')]);

    // Assess
    expect(polled.status).toBe(503);
    expect(Number(polled.retryAfter)).toBeGreaterThan(0);
    expect(polled.elapsedMs).toBeLessThan(UPPER_BOUND_MS);
    expect(checked.status).toBe(503);
    expect(checked.elapsedMs).toBeLessThan(2_000);
  });
});
