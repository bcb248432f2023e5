import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { startDynamoEmulator, startS3Emulator } from '../../functions/local/emulators.js';
import type { RunningEmulator } from '../../functions/local/emulators.js';
import { ensureBucket, ensureTable } from '../../functions/local/provision.js';

const ROLE = 'arn:aws:sts::123456789012:assumed-role/fleet-operators/alice';
const UPLOADER = 'AWS:AROAEXAMPLEUPLOADER:bob';

/** A Function URL request with AWS_IAM auth (payload format 2.0): AWS names the signer in requestContext.authorizer.iam. */
function signedEvent(method: string, path: string, body?: unknown) {
  const [rawPath, rawQueryString = ''] = path.split('?');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { host: 'api.lambda-url.eu-west-1.on.aws', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authorizer: {
        iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'AROAEXAMPLE:alice', cognitoIdentity: null, principalOrgId: null, userArn: ROLE, userId: 'AROAEXAMPLE:alice' },
      },
      domainName: 'api.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'opampctl' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '02/Dec/2026:00:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    ...(body !== undefined ? { body: JSON.stringify(body), isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

const context = { functionName: 'api', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; body: string }>;

describe('the fleet API and ingest Lambda entries audit their callers', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'opamp-audit-lambda-'));
  const emulators: RunningEmulator[] = [];
  let api: Handler;
  let ingest: (event: S3Event) => Promise<void>;

  beforeAll(async () => {
    const dynamo = await startDynamoEmulator({});
    const s3 = await startS3Emulator({ directory: join(scratch, 's3') });
    emulators.push(dynamo, s3);
    const clients = createAwsClients({ dynamodbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, emulated: true });
    await ensureTable(clients.dynamodb, 'opamp-audit-test');
    await ensureBucket(clients.s3, 'opamp-audit-test');
    await ensureBucket(clients.s3, 'opamp-audit-test-state');
    Object.assign(process.env, {
      OPAMP_TABLE: 'opamp-audit-test',
      OPAMP_BUCKET: 'opamp-audit-test',
      OPAMP_STATE_BUCKET: 'opamp-audit-test-state',
      OPAMP_AUDIT_RETENTION_DAYS: '30',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    ({ handler: api } = (await import('../../functions/entry/api.lambda.js')) as never);
    ({ handler: ingest } = (await import('../../functions/entry/ingest.lambda.js')) as never);
  });

  afterAll(async () => {
    for (const e of emulators) await e.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const audit = async (query: string) => {
    const result = await api(signedEvent('GET', `/api/v1/audit?${query}`), context);
    expect(result.statusCode).toBe(200);
    return (JSON.parse(result.body) as { entries: Array<Record<string, unknown>> }).entries;
  };

  // The Lambda clients reach S3 the way AWS does (virtual-hosted), which the emulator does not serve:
  // these changes are the ones that need only the table.
  it('records the IAM principal of a signed request', async () => {
    const created = await api(signedEvent('POST', '/api/v1/tokens', { name: 'fleet-1' }), context);
    const refused = await api(signedEvent('DELETE', '/api/v1/tokens/missing'), context);

    expect([created.statusCode, refused.statusCode]).toEqual([201, 404]);
    expect(await audit('source=api')).toEqual([
      expect.objectContaining({ principal: ROLE, source: 'api', action: 'token.revoke', target: 'tokens/missing', result: 'refused', status: 404 }),
      expect.objectContaining({ principal: ROLE, source: 'api', action: 'token.create', target: 'tokens/fleet-1', result: 'ok', status: 201 }),
    ]);
  });

  it('records the principal of the bucket event the ingest handles', async () => {
    const record = {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: UPLOADER },
      // A key against the naming rules: refused without reading the object.
      s3: { object: { key: 'configs/web/..%2Fescape.yaml', sequencer: '0A1B2C3D4E5F' } },
    };

    await ingest({ Records: [record] } as unknown as S3Event);

    expect(await audit('source=bucket')).toEqual([expect.objectContaining({ principal: UPLOADER, action: 'object.put', target: 'configs/web/../escape.yaml', result: 'refused' })]);
  });
});
