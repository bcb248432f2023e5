import { createHash } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { FLEET_PARTITION, packageVersionSortKey } from '../../functions/adapters/dynamodb/table-schema.js';
import { S3ObjectStore } from '../../functions/adapters/s3/object-store.js';
import { S3UrlSigner } from '../../functions/adapters/s3/url-signer.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import type { ReceivedMessage } from '../../functions/core/agent-commands.js';
import type { PackageVersionRecord } from '../../functions/ports/fleet-store.js';
import { freshTable } from './fleet-table.js';
import { bytesOfLength, emulatorClients, minimalRecord, newUid, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

const T0 = Date.UTC(2026, 0, 1);
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let stores: Stores;
let objects: S3ObjectStore;
let signer: S3UrlSigner;

beforeAll(async () => {
  stores = await provisionStores();
  objects = new S3ObjectStore(stores.clients.s3, stores.bucketName);
  signer = new S3UrlSigner(stores.clients.s3, stores.bucketName);
});

function version(overrides: Partial<PackageVersionRecord> = {}): PackageVersionRecord {
  return {
    name: '',
    version: '0.140.0',
    objectKey: 'packages/_agent/0.140.0/otelcol.tar.gz',
    sha256: 'ab'.repeat(32),
    size: 1234,
    signature: Buffer.from([1, 2, 3, 0, 255]).toString('base64'),
    scannedAt: T0,
    ...overrides,
  };
}

describe('DynamoFleetStore: package versions', () => {
  const clients = emulatorClients();
  let store: DynamoFleetStore;
  let tableName: string;

  beforeAll(async () => {
    tableName = await freshTable(clients.dynamodb, 'packages');
    store = new DynamoFleetStore(clients.dynamodb, tableName);
  });

  /** Each test uses its own package name, so that they share one table. */
  const named = (name: string, overrides: Partial<PackageVersionRecord> = {}) => version({ name, objectKey: `packages/${name}/0.140.0/f.tgz`, ...overrides });
  const loaded = async (name: string) => (await store.load()).packageVersions.filter((p) => p.name === name);

  it("round-trips every field through load(), including the agent's empty name, a signature and an error", async () => {
    // Prepare
    const signed = version();
    const broken = named('broken', { signature: undefined, error: 'packages/broken/0.140.0/ holds 2 files', sha256: '', size: 0 });

    // Act
    const results = [await store.putPackageVersion(signed, 0), await store.putPackageVersion(broken, 0)];
    const snapshot = await store.load();

    // Assess
    expect(results).toEqual([true, true]);
    expect(snapshot.packageVersions).toEqual(expect.arrayContaining([signed, broken]));
    expect(snapshot.packageVersions.find((p) => p.name === 'broken')).not.toHaveProperty('signature');
    expect(snapshot.state.packages.get('@0.140.0')).toMatchObject({ name: '', objectKey: signed.objectKey, signature: signed.signature });
  });

  it('writes only over the revision read before the listing: each write moves it on, a write over an older one is refused', async () => {
    // Prepare
    const before = await store.packageRevision('revised', '0.140.0');

    // Act
    const first = await store.putPackageVersion(named('revised', { sha256: '11'.repeat(32) }), before);
    const after = await store.packageRevision('revised', '0.140.0');
    const overOld = await store.putPackageVersion(named('revised', { sha256: '22'.repeat(32) }), before);
    const second = await store.putPackageVersion(named('revised', { sha256: '33'.repeat(32) }), after);

    // Assess
    expect([before, after, await store.packageRevision('revised', '0.140.0')]).toEqual([0, 1, 2]);
    expect([first, overOld, second]).toEqual([true, false, true]);
    expect((await loaded('revised')).map((p) => p.sha256)).toEqual(['33'.repeat(32)]);
  });

  it("orders removals with puts by revision, whatever the listings' clocks say: a put over the removal's revision cannot bring it back", async () => {
    // Prepare
    await store.putPackageVersion(named('removed', { scannedAt: T0 + 10 }), 0);

    // Act
    const staleRemove = await store.removePackageVersion('removed', '0.140.0', T0 + 20, 0);
    const afterStaleRemove = await loaded('removed');
    const remove = await store.removePackageVersion('removed', '0.140.0', T0 + 5, 1);
    const afterRemove = await loaded('removed');
    const stalePut = await store.putPackageVersion(named('removed', { scannedAt: T0 + 30 }), 1);
    const afterStalePut = await loaded('removed');
    const laterPut = await store.putPackageVersion(named('removed', { scannedAt: T0 + 1 }), 2);

    // Assess
    expect([staleRemove, remove, stalePut, laterPut]).toEqual([false, true, false, true]);
    expect(afterStaleRemove).toHaveLength(1);
    expect(afterRemove).toEqual([]);
    expect(afterStalePut).toEqual([]);
    expect(await loaded('removed')).toEqual([named('removed', { scannedAt: T0 + 1 })]);
    const item = await clients.dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: FLEET_PARTITION }, sk: { S: packageVersionSortKey('removed', '0.140.0') } },
        ConsistentRead: true,
      }),
    );
    expect(item.Item?.removed).toBeUndefined();
    expect(item.Item?.revision).toEqual({ N: '3' });
  });
});

describe('S3ObjectStore.digestObject', () => {
  it('hashes a multi-megabyte object as streamed, equal to the SHA-256 of its bytes', async () => {
    // Prepare
    const body = bytesOfLength(5 * 1024 * 1024 + 13, 11);
    await objects.putObject('packages/_agent/0.141.0/otelcol.tar.gz', body);

    // Act
    const digest = await objects.digestObject('packages/_agent/0.141.0/otelcol.tar.gz');

    // Assess
    expect(digest).toEqual({ sha256: sha(body), size: body.byteLength });
  });

  it('answers undefined for a missing object', async () => {
    expect(await objects.digestObject('packages/none/1.0.0/missing.tgz')).toBeUndefined();
  });
});

describe('S3UrlSigner', () => {
  it('signs a GET URL that downloads the object from the bucket, without credentials', async () => {
    // Prepare
    const body = bytesOfLength(300_000, 5);
    await objects.putObject('packages/ext/1.0.0/ext.tar.gz', body);

    // Act
    const url = await signer.signGet('packages/ext/1.0.0/ext.tar.gz', 120);
    const response = await fetch(url);
    const downloaded = new Uint8Array(await response.arrayBuffer());

    // Assess
    expect(response.status).toBe(200);
    expect(sha(downloaded)).toBe(sha(body));
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
  });

  it('signs a PUT URL that uploads an object, and a GET URL for a key that is not there fails', async () => {
    // Prepare
    const body = bytesOfLength(70_000, 9);

    // Act
    const url = await signer.signPut('packages/ext/2.0.0/ext.tar.gz', 900);
    const upload = await fetch(url, { method: 'PUT', body });
    const stored = await objects.getObject('packages/ext/2.0.0/ext.tar.gz');
    const missing = await fetch(await signer.signGet('packages/ext/9.9.9/none.tgz', 60));
    await missing.arrayBuffer();

    // Assess
    expect(upload.status).toBe(200);
    expect(stored && sha(stored.bytes)).toBe(sha(body));
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('900');
    expect(missing.status).toBe(404);
  });
});

describe('DynamoAgentStore: inbox', () => {
  const message = (i: number): ReceivedMessage => ({
    capability: 'io.example.pause',
    type: `type-${i}`,
    data: Buffer.from([i, 0, 255]).toString('base64'),
    truncated: i % 2 === 0,
    receivedAt: T0 + i,
  });

  it('keeps only the last `keep` messages and lists them newest first', async () => {
    // Prepare
    const uid = newUid();
    const keep = 3;

    // Act
    for (let i = 1; i <= 5; i++) await stores.agents.appendInbox(uid, i, message(i), keep);
    const listed = await stores.agents.listInbox(uid);

    // Assess
    expect(listed).toEqual([message(5), message(4), message(3)]);
  });

  it('keeps a few messages whole before the limit is reached, and lists nothing for an agent without messages', async () => {
    // Prepare
    const uid = newUid();

    // Act
    await stores.agents.appendInbox(uid, 1, message(1), 10);
    await stores.agents.appendInbox(uid, 2, message(2), 10);

    // Assess
    expect(await stores.agents.listInbox(uid)).toEqual([message(2), message(1)]);
    expect(await stores.agents.listInbox(newUid())).toEqual([]);
  });

  it('orders by index past 9 (numeric, not text, order)', async () => {
    // Prepare
    const uid = newUid();

    // Act
    for (let i = 8; i <= 12; i++) await stores.agents.appendInbox(uid, i, message(i), 10);

    // Assess
    expect((await stores.agents.listInbox(uid)).map((m) => m.type)).toEqual(['type-12', 'type-11', 'type-10', 'type-9', 'type-8']);
  });
});

describe('DynamoAgentStore: the management fields of the agent record', () => {
  it('round-trips commands, messages, fingerprint, duplicates, package offer and statuses, components and inbox count', async () => {
    // Prepare
    const uid = newUid();
    const record: AgentRecord = minimalRecord(uid, {
      pendingCommand: { type: 'restart', id: 'cmd-2', queuedAt: T0, expiresAt: T0 + 900_000 },
      lastCommand: { type: 'restart', id: 'cmd-1', queuedAt: T0 - 60_000, deliveredAt: T0 - 30_000 },
      outbox: [{ id: 'm1', capability: 'io.example.pause', type: 'pause', data: 'Zm9y', queuedAt: T0, expiresAt: T0 + 900_000 }],
      customCapabilities: ['io.example.pause', 'io.example.other'],
      fingerprint: {
        identity: 'id-a',
        previousIdentity: 'id-b',
        identityChangedAt: T0,
        identityFlips: 1,
        startTime: '1800000000000000000',
        previousStartTime: '1700000000000000000',
        startTimeChangedAt: T0,
        lastResetAt: T0,
        preResetSeq: '18446744073709551615',
      },
      duplicates: [{ at: T0, newInstanceUid: newUid(), reason: 'two sequence counters interleave' }],
      packagesOffer: { hash: 'BcWwV4hq7V+EODXkl9eKVPvLDuUK9y/hd0KxuaqLK9Y=', offeredAt: T0, offeredSeq: 18_446_744_073_709_551_615n, attempts: 2 },
      packages: {
        '': { hasVersion: '0.140.0', offeredVersion: '0.141.0', status: 'InstallFailed', error: 'checksum mismatch' },
        ext: { hasVersion: '', offeredVersion: '1.0.0', status: 'Downloading', downloadPercent: 12.5 },
      },
      serverProvidedAllPackagesHash: 'AQID',
      availableComponentsHash: 'YzE',
      componentsRequested: 'YzE',
      sentCustomCapabilities: 'q2_3Xx',
      inboxCount: 12,
    });

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(uid);

    // Assess
    expect(read).toEqual(record);
    expect(typeof read?.packagesOffer?.offeredSeq).toBe('bigint');
  });

  it('leaves every management field out when none is set', async () => {
    // Prepare
    const uid = newUid();

    // Act
    await stores.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });
    const read = await stores.agents.get(uid);

    // Assess
    for (const field of ['pendingCommand', 'lastCommand', 'outbox', 'fingerprint', 'duplicates', 'packagesOffer', 'packages', 'componentsRequested', 'sentCustomCapabilities', 'inboxCount'] as const) {
      expect(read).not.toHaveProperty(field);
    }
  });
});
