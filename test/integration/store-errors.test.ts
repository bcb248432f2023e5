import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { DynamoAgentStore } from '../../functions/adapters/dynamodb/agent-store.js';
import { S3BlobStore } from '../../functions/adapters/s3/blob-store.js';
import { contentId } from '../../functions/core/canonical-hash.js';
import { sectionId } from '../../functions/core/sections.js';
import { StoreUnavailableError } from '../../functions/ports/errors.js';
import { bytesOfLength, closedPort, emulatorClients, injectFault, minimalRecord, newUid, provisionStores, serviceError } from './harness.js';
import type { Stores } from './harness.js';

/**
 * Error translation with real SDK clients: faults are injected into the
 * client's middleware stack (or the client points at a closed port), so the
 * store code under test runs unchanged.
 */

let stores: Stores;

beforeAll(async () => {
  stores = await provisionStores();
});

type StoreCall = (store: DynamoAgentStore) => Promise<unknown>;

const uid = newUid();
const payload = bytesOfLength(64);
const payloadId = sectionId(contentId(payload), 'v1');
const STORE_CALLS: Array<[string, StoreCall]> = [
  ['get', (s) => s.get(uid)],
  ['put', (s) => s.put({ record: minimalRecord(uid), expectedVersion: 0 })],
  ['put (update)', (s) => s.put({ record: minimalRecord(uid, { version: 3 }), expectedVersion: 2 })],
  ['writeSections', (s) => s.writeSections([{ instanceUid: uid, id: payloadId, content: { kind: 'health', hash: contentId(payload), bytes: payload } }])],
  ['writeSections (deletes only)', (s) => s.writeSections([], [{ instanceUid: uid, kind: 'health', id: payloadId }])],
  ['copySections', (s) => s.copySections(uid, newUid(), [{ kind: 'health', id: payloadId }])],
  ['getSection', (s) => s.getSection(uid, { kind: 'health', id: payloadId })],
  ['list', (s) => s.list({ limit: 10 })],
  ['ping', (s) => s.ping()],
];

/** A store over the shared table whose DynamoDB client fails every command with `makeError()`. */
function faultyStore(makeError: () => Error, step: 'initialize' | 'finalizeRequest' = 'initialize') {
  const clients = emulatorClients();
  const thrown = injectFault(clients.dynamodb, makeError, step);
  const store = new DynamoAgentStore({ client: clients.dynamodb, tableName: stores.tableName, blobs: stores.blobs });
  return { store, thrown };
}

describe('DynamoAgentStore error translation', () => {
  it.each(STORE_CALLS)('%s: throttling (ProvisionedThroughputExceededException, 400) becomes StoreUnavailableError', async (_name, call) => {
    // Prepare
    const { store, thrown } = faultyStore(() => serviceError('ProvisionedThroughputExceededException', 400));

    // Act
    const error = await call(store).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ store: 'dynamodb' });
    expect((error as Error).cause).toBe(thrown.at(-1));
  });

  it.each(STORE_CALLS)('%s: a ValidationException (400) is rethrown unchanged', async (_name, call) => {
    // Prepare
    const { store, thrown } = faultyStore(() => serviceError('ValidationException', 400));

    // Act
    const error = await call(store).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(thrown.length).toBeGreaterThan(0);
    expect(error).toBe(thrown.at(-1));
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
  });

  it.each([
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 400],
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
    ['SomethingNew', 502],
  ])('%s (%i) becomes StoreUnavailableError', async (name, status) => {
    // Prepare
    const { store } = faultyStore(() => serviceError(name, status));

    // Act / Assess
    await expect(store.get(uid)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it.each([
    ['ResourceNotFoundException', 400],
    ['AccessDeniedException', 400],
    ['ItemCollectionSizeLimitExceededException', 400],
  ])('%s (%i) is rethrown unchanged', async (name, status) => {
    // Prepare
    const { store, thrown } = faultyStore(() => serviceError(name, status));

    // Act
    const error = await store.put({ record: minimalRecord(newUid()), expectedVersion: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBe(thrown.at(-1));
  });

  it('still translates throttling that the SDK retried before giving up', async () => {
    // Prepare: the fault sits after the retry middleware, so the SDK retries it as it would a real throttle.
    const { store, thrown } = faultyStore(() => serviceError('ProvisionedThroughputExceededException', 400), 'finalizeRequest');

    // Act
    const error = await store.get(uid).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(thrown.length).toBe(3); // createAwsClients allows 3 attempts
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });

  it('translates a refused connection (nothing listening) into StoreUnavailableError', async () => {
    // Prepare: real clients pointed at a port nothing listens on.
    const port = await closedPort();
    const clients = createAwsClients({ dynamodbEndpoint: `http://127.0.0.1:${port}`, s3Endpoint: `http://127.0.0.1:${port}`, emulated: true });
    const store = new DynamoAgentStore({ client: clients.dynamodb, tableName: stores.tableName, blobs: new S3BlobStore(clients.s3, stores.stateBucketName) });

    // Act
    const results = await Promise.all([
      store.get(uid).then(
        () => undefined,
        (e: unknown) => e,
      ),
      store.put({ record: minimalRecord(newUid()), expectedVersion: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      store.ping().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ]);

    // Assess
    for (const error of results) {
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ store: 'dynamodb' });
      expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    }
  });
});

describe('S3BlobStore error translation', () => {
  function faultyBlobs(makeError: () => Error) {
    const clients = emulatorClients();
    const thrown = injectFault(clients.s3, makeError);
    return { blobs: new S3BlobStore(clients.s3, stores.stateBucketName), thrown };
  }

  it.each([
    ['SlowDown', 503],
    ['InternalError', 500],
  ])('%s (%i) becomes StoreUnavailableError for put and get', async (name, status) => {
    // Prepare
    const { blobs } = faultyBlobs(() => serviceError(name, status));

    // Act / Assess
    await expect(blobs.put('k', payload)).rejects.toMatchObject({ name: 'StoreUnavailableError', store: 's3' });
    await expect(blobs.get('k')).rejects.toMatchObject({ name: 'StoreUnavailableError', store: 's3' });
  });

  it('rethrows AccessDenied (403) unchanged', async () => {
    // Prepare
    const { blobs, thrown } = faultyBlobs(() => serviceError('AccessDenied', 403));

    // Act
    const putError = await blobs.put('k', payload).then(
      () => undefined,
      (e: unknown) => e,
    );
    const getError = await blobs.get('k').then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(putError).toBe(thrown[0]);
    expect(getError).toBe(thrown[1]);
  });

  it('translates a refused connection into StoreUnavailableError', async () => {
    // Prepare
    const port = await closedPort();
    const clients = createAwsClients({ s3Endpoint: `http://127.0.0.1:${port}`, emulated: true });
    const blobs = new S3BlobStore(clients.s3, stores.stateBucketName);

    // Act / Assess
    await expect(blobs.get('k')).rejects.toMatchObject({ name: 'StoreUnavailableError', store: 's3' });
  });

  it('surfaces an S3 outage while reading a section stored in S3 as StoreUnavailableError', async () => {
    // Prepare: a section written to S3 through healthy clients, then read through a store whose S3 is throttling.
    const healthy = await provisionStores({ inlineSectionLimitBytes: 16 });
    const agent = newUid();
    await healthy.agents.writeSections([{ instanceUid: agent, id: payloadId, content: { kind: 'effectiveConfig', hash: contentId(payload), bytes: payload } }]);
    const s3Clients = emulatorClients();
    injectFault(s3Clients.s3, () => serviceError('SlowDown', 503));
    const store = new DynamoAgentStore({
      client: healthy.clients.dynamodb,
      tableName: healthy.tableName,
      blobs: new S3BlobStore(s3Clients.s3, healthy.stateBucketName),
    });

    // Act / Assess
    await expect(store.getSection(agent, { kind: 'effectiveConfig', id: payloadId })).rejects.toMatchObject({ name: 'StoreUnavailableError', store: 's3' });
  });
});
