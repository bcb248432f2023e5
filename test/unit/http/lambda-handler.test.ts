import { fromBinary } from '@bufbuild/protobuf';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Context } from 'aws-lambda';
import type { Hono } from 'hono';
import type { LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import { lambdaHandler } from '../../../functions/entry/lambda-handler.js';
import { ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { createPowertools } from '../../../functions/observability/powertools.js';
import { fullReport, heartbeat, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, PROTOBUF, uidText } from './support.js';
import type { TestAppOptions } from './support.js';

/** The payload format 2.0 shape shared by Function URLs and HTTP APIs. */
type APIGatewayProxyEventV2 = Extract<LambdaEvent, { rawPath: string }>;

/** A Lambda Function URL event (payload format 2.0), as AWS delivers it. */
function functionUrlEvent(init: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array; base64?: boolean }): APIGatewayProxyEventV2 {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/v1/opamp';
  const body = init.body === undefined ? null : init.base64 === false ? Buffer.from(init.body).toString('utf8') : Buffer.from(init.body).toString('base64');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
      'user-agent': 'OpAMP-Go-Client/0.20',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.7',
      ...(init.body !== undefined ? { 'content-length': String(init.body.byteLength) } : {}),
      ...init.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      authentication: null,
      authorizer: {},
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'OpAMP-Go-Client/0.20' },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: Date.UTC(2026, 0, 1),
    },
    body,
    isBase64Encoded: body !== null && init.base64 !== false,
  };
}

const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'opamp-agent-endpoint',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:opamp-agent-endpoint',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/opamp-agent-endpoint',
  logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The app wired to Powertools as in production, behind the Lambda adapter. */
function handlerFor(options: TestAppOptions = {}) {
  const powertools = createPowertools('test', { metricsFlushIntervalMs: 0 });
  const { app, agents } = buildApp({ ...options, telemetry: powertools.telemetry });
  const handler = lambdaHandler(app as Hono, powertools);
  const invoke = async (event: APIGatewayProxyEventV2) => (await handler(event, lambdaContext)) as LambdaResult;
  return { invoke, agents };
}

/** EMF documents Powertools printed, flattened to `name` or `name{reason}` entries. */
function publishedMetrics(): string[] {
  const names: string[] = [];
  for (const [line] of consoleLog.mock.calls) {
    if (typeof line !== 'string' || !line.includes('"_aws"')) continue;
    const emf = JSON.parse(line) as { _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }; reason?: string };
    for (const group of emf._aws.CloudWatchMetrics) {
      for (const metric of group.Metrics) names.push(emf.reason ? `${metric.Name}{${emf.reason}}` : metric.Name);
    }
  }
  return names;
}

function decodeResult(result: LambdaResult): ServerToAgent {
  let bytes = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (result.headers?.['content-encoding'] === 'gzip') bytes = gunzipSync(bytes);
  return fromBinary(ServerToAgentSchema, new Uint8Array(bytes));
}

let consoleLog: MockInstance<typeof console.log>;

describe('lambdaHandler with Function URL events', () => {
  beforeAll(() => {
    // Dev mode sends Powertools output through the global console, where it is captured (and kept off the
    // test output); metrics stay enabled so that what the handler flushes can be checked. No log lines.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    consoleLog = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'info').mockImplementation(() => {});
    vi.spyOn(console, 'debug').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  beforeEach(() => {
    consoleLog.mockClear();
  });
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('answers a base64 protobuf poll with a base64 ServerToAgent echoing the uid', async () => {
    // Prepare
    const { invoke, agents } = handlerFor();
    const uid = newUidBytes();
    const event = functionUrlEvent({ headers: { 'content-type': PROTOBUF }, body: encode(fullReport(uid, 1n)) });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers?.['content-type']).toBe(PROTOBUF);
    const reply = decodeResult(result);
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.errorResponse).toBeUndefined();
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 1n });
    expect(publishedMetrics()).toEqual(expect.arrayContaining(['Polls', 'NewAgents']));
  });

  it('decodes a gzip-encoded base64 body', async () => {
    // Prepare
    const { invoke, agents } = handlerFor();
    const uid = newUidBytes();
    const body = gzipSync(encode(fullReport(uid, 3n)));
    const event = functionUrlEvent({ headers: { 'content-type': PROTOBUF, 'content-encoding': 'gzip' }, body });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(decodeResult(result).instanceUid).toEqual(uid);
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 3n });
  });

  it('base64-encodes a gzipped reply', async () => {
    // Prepare
    const { invoke } = handlerFor({ limits: { gzipMinBytes: 0 } });
    const uid = newUidBytes();
    const event = functionUrlEvent({ headers: { 'content-type': PROTOBUF, 'accept-encoding': 'gzip' }, body: encode(heartbeat(uid, 1n)) });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers?.['content-encoding']).toBe('gzip');
    expect(decodeResult(result).instanceUid).toEqual(uid);
  });

  it('answers 413 to a body over maxRequestBytes and stores nothing', async () => {
    // Prepare
    const { invoke, agents } = handlerFor({ limits: { maxRequestBytes: 64 } });
    const body = encode(fullReport(newUidBytes(), 1n));
    expect(body.byteLength).toBeGreaterThan(64);
    const event = functionUrlEvent({ headers: { 'content-type': PROTOBUF }, body });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.statusCode).toBe(413);
    expect((await agents.list({ limit: 10 })).records).toEqual([]);
    expect(publishedMetrics()).toEqual(['RejectedRequests{payload-too-large}']);
  });

  it('answers 415 to a request that is not application/x-protobuf and stores nothing', async () => {
    // Prepare
    const { invoke, agents } = handlerFor();
    const event = functionUrlEvent({ headers: { 'content-type': 'application/json' }, body: Buffer.from('{"instanceUid":"x"}'), base64: false });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.statusCode).toBe(415);
    expect((await agents.list({ limit: 10 })).records).toEqual([]);
    expect(publishedMetrics()).toEqual(['RejectedRequests{unsupported-media-type}']);
  });

  it('serves the health check as JSON text', async () => {
    // Prepare
    const { invoke } = handlerFor();

    // Act
    const result = await invoke(functionUrlEvent({ method: 'GET', path: '/healthz' }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });
});
