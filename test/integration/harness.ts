import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { v7 as uuidv7 } from 'uuid';
import { inject } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import type { AwsClients } from '../../functions/adapters/aws-clients.js';
import { DynamoAgentStore } from '../../functions/adapters/dynamodb/agent-store.js';
import { DynamoConfigHistoryStore } from '../../functions/adapters/dynamodb/config-history-store.js';
import { S3ObjectStore } from '../../functions/adapters/s3/object-store.js';
import { S3BlobStore } from '../../functions/adapters/s3/blob-store.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import { ensureBucket, ensureTable } from '../../functions/local/provision.js';

/**
 * Shared setup for the integration tests: real SDK clients against the
 * emulators the global setup started, one fresh table and bucket per test
 * file so that files can run in parallel.
 */

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export function emulatorClients(): AwsClients {
  return createAwsClients({ dynamodbEndpoint: inject('dynamodbEndpoint'), s3Endpoint: inject('s3Endpoint'), emulated: true });
}

export interface Stores {
  clients: AwsClients;
  tableName: string;
  bucketName: string;
  /** The server's own bucket (large status sections), apart from the operator's. */
  stateBucketName: string;
  blobs: S3BlobStore;
  agents: DynamoAgentStore;
  /** The operator's bucket and the state bucket as object stores. */
  objects: S3ObjectStore;
  stateObjects: S3ObjectStore;
  configHistory: DynamoConfigHistoryStore;
}

/** A fresh table, operator bucket and state bucket, and the adapters over them. */
export async function provisionStores(options: { inlineSectionLimitBytes?: number; clients?: AwsClients } = {}): Promise<Stores> {
  const clients = options.clients ?? emulatorClients();
  const tableName = uniqueName('agents');
  const bucketName = uniqueName('fleet');
  const stateBucketName = `${bucketName}-state`;
  await ensureTable(clients.dynamodb, tableName);
  await ensureBucket(clients.s3, bucketName);
  await ensureBucket(clients.s3, stateBucketName);
  const blobs = new S3BlobStore(clients.s3, stateBucketName);
  const agents = new DynamoAgentStore({
    client: clients.dynamodb,
    tableName,
    blobs,
    ...(options.inlineSectionLimitBytes !== undefined ? { inlineSectionLimitBytes: options.inlineSectionLimitBytes } : {}),
  });
  const objects = new S3ObjectStore(clients.s3, bucketName);
  const stateObjects = new S3ObjectStore(clients.s3, stateBucketName);
  const configHistory = new DynamoConfigHistoryStore(clients.dynamodb, tableName);
  return { clients, tableName, bucketName, stateBucketName, blobs, agents, objects, stateObjects, configHistory };
}

/** Counts the commands a client sends, by command name (e.g. 'PutItemCommand'). */
export function countCommands(client: DynamoDBClient | S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'integrationTestCommandCounter' },
  );
  return counts;
}

/**
 * Makes every command of the client fail with a fresh `makeError()`, before it
 * reaches the network. At 'initialize' the error skips the SDK's retries; at
 * 'finalizeRequest' it goes through them, as a service error does. Returns the
 * errors thrown, latest last.
 */
export function injectFault(client: DynamoDBClient | S3Client, makeError: () => Error, step: 'initialize' | 'finalizeRequest' = 'initialize'): Error[] {
  const thrown: Error[] = [];
  const middleware = () => async (): Promise<never> => {
    const error = makeError();
    thrown.push(error);
    throw error;
  };
  const stack = (client as DynamoDBClient).middlewareStack;
  if (step === 'initialize') stack.add(middleware, { step, name: 'integrationTestFault' });
  else stack.add(middleware, { step, name: 'integrationTestFault' });
  return thrown;
}

/** An SDK-shaped service error: a name and the response metadata the SDK attaches. */
export function serviceError(name: string, httpStatusCode: number): Error {
  const error = new Error(`${name} (injected)`);
  error.name = name;
  Object.assign(error, { $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode, attempts: 1 } });
  return error;
}

/** A TCP port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function newUid(): string {
  return uuidv7();
}

/** A stored-shape record with every required field; the version is the one it will be stored with. */
export function minimalRecord(instanceUid: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    instanceUid,
    version: 1,
    sequenceNum: 1n,
    lastMessageDigest: 'digest-1',
    capabilities: 0x3n,
    firstSeenAt: 1_700_000_000_000,
    lastSeenAt: 1_700_000_000_000,
    attributes: {},
    sections: {},
    sectionIds: {},
    expiresAt: 1_702_592_000,
    ...overrides,
  };
}

export function bytesOfLength(length: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

export interface FaultSwitch {
  /** Makes the next `commandName` command (e.g. 'BatchWriteItemCommand') fail with `makeError()`, once. */
  failNext(commandName: string, makeError: () => Error): void;
  /** The errors thrown so far. */
  readonly fired: Error[];
}

/** A fault that is off until armed, then fires once for one kind of command. */
export function faultSwitch(client: DynamoDBClient | S3Client): FaultSwitch {
  const armed = new Map<string, () => Error>();
  const fired: Error[] = [];
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const makeError = armed.get(context.commandName ?? '');
      if (makeError) {
        armed.delete(context.commandName ?? '');
        const error = makeError();
        fired.push(error);
        throw error;
      }
      return next(args);
    },
    { step: 'initialize', name: 'integrationTestFaultSwitch' },
  );
  return { failNext: (commandName, makeError) => armed.set(commandName, makeError), fired };
}
