import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { loadConfig } from '../../functions/config.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import { createBackend } from '../../functions/entry/backend.js';
import type { Backend } from '../../functions/entry/backend.js';
import { AgentToServerSchema, ServerToAgentFlags, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
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

/** Generous: the deadlines below are 1 s (poll, fleet API) and 0.5 s (health). */
const UPPER_BOUND_MS = 3_500;

let dynamo: FaultProxy;
let s3: FaultProxy;
let tables: { tableName: string; bucketName: string };

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
    OPAMP_POLL_DEADLINE_SECONDS: '1',
    OPAMP_HEALTH_DEADLINE_SECONDS: '0.5',
    OPAMP_API_DEADLINE_SECONDS: '1',
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
  if (res.status === 200 && type.includes('protobuf')) answer.reply = fromBinary(ServerToAgentSchema, bytes);
  if (type.includes('json')) answer.json = JSON.parse(new TextDecoder().decode(bytes));
  return answer;
}

function poll(message: AgentToServer, app = backend.app): Promise<Answer> {
  return timed(app, '/v1/opamp', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: toBinary(AgentToServerSchema, message) });
}

/** Either saved (200) or refused as retryable (503 with Retry-After), in time. */
function expectAnsweredInTime(answer: Answer): void {
  expect(answer.elapsedMs).toBeLessThan(UPPER_BOUND_MS);
  expect([200, 503]).toContain(answer.status);
  if (answer.status === 503) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
}

async function agentView(uid: Uint8Array): Promise<{ health: { lastError?: string } | null }> {
  const answer = await timed(backend.app, `/api/v1/agents/${instanceUidToText(uid)}`);
  expect(answer.status).toBe(200);
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
    expect((await poll(fullReport(uid, 1n))).status).toBe(200);
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
    // The agent sends a refused message again; then the next heartbeat finds everything in order.
    if (faulted.status === 503) expect((await poll(change)).status).toBe(200);
    const next = await poll(heartbeat(uid, 3n));
    expect(next.status).toBe(200);
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
    const healed = await timed(backend.app, '/healthz');

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
    expect((await poll(fullReport(uid, 1n))).status).toBe(200);
    dynamo.inject('Scan', fault);

    // Act
    const faulted = await timed(backend.app, '/api/v1/agents?limit=1000');
    dynamo.clear();
    const healed = await timed(backend.app, '/api/v1/agents?limit=1000');

    // Assess
    expect(faulted.elapsedMs).toBeLessThan(UPPER_BOUND_MS);
    expect(faulted.status).toBe(503);
    expect(Number(faulted.retryAfter)).toBeGreaterThan(0);
    expect(healed.status).toBe(200);
    const listed = (healed.json as { agents: Array<{ instanceUid: string }> }).agents.map((a) => a.instanceUid);
    expect(listed).toContain(instanceUidToText(uid));
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
