import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { AgentToServerSchema, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startDynamoEmulator, startS3Emulator } from '../../functions/local/emulators.js';
import type { RunningEmulator } from '../../functions/local/emulators.js';
import { ensureBucket, ensureTable } from '../../functions/local/provision.js';
import { DynamoTokenStore } from '../../functions/adapters/dynamodb/token-store.js';
import { TokenAdmin } from '../../functions/service/agent-tokens.js';
import { fullReport, newUidBytes } from '../support/messages.js';

/** A Lambda Function URL request (payload format 2.0), the way AWS delivers a binary POST. */
function functionUrlEvent(path: string, body: Uint8Array, headers: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc.lambda-url.eu-west-1.on.aws', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '26/Nov/2026:00:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

const context = {
  functionName: 'opamp',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:opamp',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/opamp',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

describe('the OpAMP Lambda entry', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'opamp-lambda-'));
  const emulators: RunningEmulator[] = [];
  let handler: (event: unknown, context: Context) => Promise<{ statusCode: number; body: string; isBase64Encoded: boolean; headers?: Record<string, string> }>;
  let token: string;
  const protobuf = () => ({ 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const dynamo = await startDynamoEmulator({});
    const s3 = await startS3Emulator({ directory: join(scratch, 's3') });
    emulators.push(dynamo, s3);
    const clients = createAwsClients({ dynamodbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, emulated: true });
    await ensureTable(clients.dynamodb, 'opamp-lambda-test');
    await ensureBucket(clients.s3, 'opamp-lambda-test');
    await ensureBucket(clients.s3, 'opamp-lambda-test-state');
    ({ token } = await new TokenAdmin(new DynamoTokenStore(clients.dynamodb, 'opamp-lambda-test'), Date.now).create('fleet-2026'));
    // The entry reads its settings from the environment, as it does in AWS.
    Object.assign(process.env, {
      OPAMP_TABLE: 'opamp-lambda-test',
      OPAMP_BUCKET: 'opamp-lambda-test',
      OPAMP_STATE_BUCKET: 'opamp-lambda-test-state',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    ({ handler } = (await import('../../functions/entry/opamp.lambda.js')) as never);
  });

  afterAll(async () => {
    for (const e of emulators) await e.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers a base64 protobuf body with a base64 protobuf reply', async () => {
    const uid = newUidBytes();
    const body = toBinary(AgentToServerSchema, fullReport(uid, 0n));

    const result = await handler(functionUrlEvent('/v1/opamp', body, protobuf()), context);

    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers?.['content-type']).toBe('application/x-protobuf');
    const reply = fromBinary(ServerToAgentSchema, new Uint8Array(Buffer.from(result.body, 'base64')));
    expect(reply.instanceUid).toEqual(uid);
  });

  it('decodes a gzip request body that arrived base64-encoded', async () => {
    const uid = newUidBytes();
    const body = new Uint8Array(gzipSync(toBinary(AgentToServerSchema, fullReport(uid, 0n))));

    const result = await handler(functionUrlEvent('/v1/opamp', body, { ...protobuf(), 'content-encoding': 'gzip' }), context);

    expect(result.statusCode).toBe(200);
    expect(fromBinary(ServerToAgentSchema, new Uint8Array(Buffer.from(result.body, 'base64'))).instanceUid).toEqual(uid);
  });

  it('refuses an agent without a valid token with a bare 401', async () => {
    const body = toBinary(AgentToServerSchema, fullReport(newUidBytes(), 0n));

    const missing = await handler(functionUrlEvent('/v1/opamp', body, { 'content-type': 'application/x-protobuf' }), context);
    const wrong = await handler(functionUrlEvent('/v1/opamp', body, { 'content-type': 'application/x-protobuf', authorization: 'Bearer opamp_nope' }), context);

    for (const result of [missing, wrong]) {
      expect(result.statusCode).toBe(401);
      expect(result.headers?.['content-type']).not.toBe('application/x-protobuf');
    }
  });

  it('does not serve the fleet API on the public agent function', async () => {
    const event = { ...functionUrlEvent('/api/v1/agents', new Uint8Array(), {}), body: '', isBase64Encoded: false };
    event.requestContext.http.method = 'GET';

    const result = await handler(event, context);

    expect(result.statusCode).toBe(404);
  });
});
