// Wires the real app (the agent endpoint as the Lambda entry wires it, and its wrapper) against the
// emulators, with a simulated clock, metered SDK clients and captured logs,
// and invokes it the way a Function URL does.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Context as LambdaContext } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import type { AwsClients } from '../../functions/adapters/aws-clients.js';
import { DynamoTokenStore } from '../../functions/adapters/dynamodb/token-store.js';
import { loadConfig } from '../../functions/config.js';
import type { BackendConfig } from '../../functions/config.js';
import { createAgentEndpoint } from '../../functions/entry/agent-endpoint.js';
import { createRolloutEngine } from '../../functions/entry/rollouts.js';
import { createBucketIngest } from '../../functions/entry/bucket-ingest.js';
import { createStores } from '../../functions/entry/stores.js';
import type { Backend } from '../../functions/entry/backend.js';
import { lambdaHandler } from '../../functions/entry/lambda-handler.js';
import { AgentToServerSchema, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { ensureBucket, ensureTable } from '../../functions/local/provision.js';
import { createPowertools } from '../../functions/observability/powertools.js';
import { TokenAdmin } from '../../functions/service/agent-tokens.js';
import { CallMeter, type LogMeter } from './meter.js';

export interface Endpoints {
  dynamodbEndpoint: string;
  s3Endpoint: string;
}

export interface EmulatorProcess extends Endpoints {
  stop(): Promise<void>;
}

/** Starts scripts/bench/emulators.ts in a child process and waits for its endpoints. */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const script = fileURLToPath(new URL('./emulators.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const endpoints = await new Promise<Endpoints>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('emulators did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`emulator process exited early (code ${code})`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Endpoints);
      } catch (error) {
        reject(new Error(`unexpected emulator output: ${line}`, { cause: error }));
      }
    });
  });
  return {
    ...endpoints,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
        }, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin?.end();
        child.kill('SIGTERM');
      }),
  };
}

/** The simulated clock the backend and Powertools' metric flush run on. */
export class SimClock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
}

export interface PollResult {
  status: number;
  reply: ServerToAgent | undefined;
  reqBytes: number;
  respBytes: number;
  respHeaderBytes: number;
  wallMs: number;
  cpuUs: number;
  /** SDK calls the poll made (counted only while metering). */
  sdkCalls: number;
  requestBody: Uint8Array;
  /** The reply body as sent (gzipped when large enough and accepted). */
  replyBody: Uint8Array;
}

export interface BenchInstance {
  name: string;
  clients: AwsClients;
  backend: Backend;
  clock: SimClock;
  calls: CallMeter;
  logs: LogMeter;
  tableName: string;
  bucketName: string;
  auth: 'token' | 'none';
  /** The backend's settings, as loaded for this instance. */
  config: BackendConfig;
  /** Sends one AgentToServer through the Lambda wrapper, as a Function URL would. */
  poll(message: AgentToServer): Promise<PollResult>;
}

const LAMBDA_CONTEXT = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'opamp-bench-OpampFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:opamp-bench-OpampFunction',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/opamp-bench-OpampFunction',
  logStreamName: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done() {},
  fail() {},
  succeed() {},
};

/** Backend settings: the defaults, plus whatever OPAMP_* the caller set in the environment (reported). */
export function benchSettings(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OPAMP_') && v !== undefined && k !== 'OPAMP_TABLE' && k !== 'OPAMP_BUCKET' && k !== 'OPAMP_STATE_BUCKET') settings[k] = v;
  }
  return settings;
}

/**
 * One function instance of the agent endpoint, as opamp.lambda.ts builds it
 * (token auth unless told otherwise), over its own table and bucket.
 * `settings` (OPAMP_* variables) override the environment's for this instance.
 */
export async function createInstance(name: string, endpoints: Endpoints, logs: LogMeter, auth: 'token' | 'none', startMs: number, settings: Record<string, string> = {}): Promise<BenchInstance> {
  const tableName = `opamp-bench-${name}`;
  const bucketName = `opamp-bench-${name}`;
  const clients = createAwsClients({ dynamodbEndpoint: endpoints.dynamodbEndpoint, s3Endpoint: endpoints.s3Endpoint, emulated: true });
  await ensureTable(clients.dynamodb, tableName);
  await ensureBucket(clients.s3, bucketName);
  await ensureBucket(clients.s3, `${bucketName}-state`);
  const calls = new CallMeter();
  calls.attachDynamo(clients.dynamodb);
  calls.attachS3(clients.s3);

  const clock = new SimClock(startMs);
  let token = '';
  if (auth === 'token') {
    ({ token } = await new TokenAdmin(new DynamoTokenStore(clients.dynamodb, tableName), clock.now).create('bench'));
  }
  // Default level and the default one-minute metric flush interval, on the simulated clock
  // (so an instance flushes once per simulated minute, as it would in AWS).
  const powertools = createPowertools('opamp', { now: clock.now });
  // Wired as functions/entry/opamp.lambda.ts wires the agent endpoint (and the ingest Lambda its ingest).
  const config = loadConfig({ ...benchSettings(), ...settings, OPAMP_TABLE: tableName, OPAMP_BUCKET: bucketName }, { agentAuth: auth });
  const wiring = { config, stores: createStores(config, clients), telemetry: powertools.telemetry, now: clock.now };
  const backend: Backend = { ...createAgentEndpoint(wiring), agents: wiring.stores.agents, ingest: createBucketIngest(wiring), rollouts: createRolloutEngine(wiring) };
  const handler = lambdaHandler(backend.app, powertools);
  const headers: Record<string, string> = {
    'content-type': 'application/x-protobuf',
    // What the opamp-go HTTP client sends (Go's transport adds gzip by itself).
    'accept-encoding': 'gzip',
    'user-agent': 'Go-http-client/1.1',
    ...(auth === 'token' ? { authorization: `Bearer ${token}` } : {}),
  };

  async function poll(message: AgentToServer): Promise<PollResult> {
    const requestBody = toBinary(AgentToServerSchema, message);
    const event = functionUrlEvent('/v1/opamp', requestBody, { ...headers, 'opamp-instance-uid': uidText(message.instanceUid) }, clock.ms);
    const context = { ...LAMBDA_CONTEXT, awsRequestId: randomUUID() } as unknown as LambdaContext;
    const calls0 = calls.totalCalls;
    logs.capturing = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let result: { statusCode: number; body: string; isBase64Encoded: boolean; headers?: Record<string, string> };
    try {
      result = (await handler(event as unknown as LambdaEvent, context)) as typeof result;
    } finally {
      logs.capturing = false;
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const replyBody = result.isBase64Encoded ? new Uint8Array(Buffer.from(result.body, 'base64')) : new Uint8Array(Buffer.from(result.body ?? ''));
    const isProtobuf = result.headers?.['content-type'] === 'application/x-protobuf';
    const encoded = result.headers?.['content-encoding'] === 'gzip';
    let reply: ServerToAgent | undefined;
    if (isProtobuf) reply = fromBinary(ServerToAgentSchema, encoded ? new Uint8Array(gunzipSync(replyBody)) : replyBody);
    const respHeaderBytes = Object.entries(result.headers ?? {}).reduce((s, [k, v]) => s + k.length + 2 + String(v).length + 2, 0);
    return {
      status: result.statusCode,
      reply,
      reqBytes: requestBody.byteLength,
      respBytes: replyBody.byteLength,
      respHeaderBytes,
      wallMs,
      cpuUs: cpu.user + cpu.system,
      sdkCalls: calls.totalCalls - calls0,
      requestBody,
      replyBody,
    };
  }

  return { name, clients, backend, clock, calls, logs, tableName, bucketName, auth, config, poll };
}

/** A Lambda Function URL request (payload format 2.0): binary bodies arrive base64-encoded. */
function functionUrlEvent(path: string, body: Uint8Array, headers: Record<string, string>, nowMs: number) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws', 'content-length': String(body.byteLength), ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(nowMs).toUTCString(),
      timeEpoch: nowMs,
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

export function uidText(uid: Uint8Array): string {
  const hex = Buffer.from(uid).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
