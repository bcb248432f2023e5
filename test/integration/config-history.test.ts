import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoConfigHistoryStore } from '../../functions/adapters/dynamodb/config-history-store.js';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { DynamoAgentStore } from '../../functions/adapters/dynamodb/agent-store.js';
import { configVersionOf, historyBlobKey } from '../../functions/core/config-history.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { BucketIngest } from '../../functions/service/bucket-ingest.js';
import { ConfigBodyCache, ConfigContentChangedError } from '../../functions/service/config-bodies.js';
import { historicConfig } from '../../functions/service/config-history.js';
import { FleetAdmin } from '../../functions/service/fleet-admin.js';
import { POLICY } from '../unit/core/fleet-fixtures.js';
import { freshTable } from './fleet-table.js';
import { provisionStores, emulatorClients } from './harness.js';
import type { Stores } from './harness.js';

/**
 * Configuration history over the wire: the DynamoDB store against dynalite,
 * the ingest's copies in an s3rver state bucket, and the real ConfigBodyCache
 * serving an earlier version from those copies.
 */

const T0 = Date.UTC(2026, 0, 1);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const version = (name: string, content: string, at: number) => configVersionOf(name, [{ fileName: 'a.yaml', sha256: sha(content), size: content.length, contentType: 'text/yaml' }], at, 'bucket');
const sha = (content: string) => createHash('sha256').update(content).digest('hex');

describe('DynamoConfigHistoryStore', () => {
  let store: DynamoConfigHistoryStore;

  beforeAll(async () => {
    const client = emulatorClients().dynamodb;
    store = new DynamoConfigHistoryStore(client, await freshTable(client, 'history'));
  });

  it('records versions newest first; the same hash again as the newest is a no-op, one that comes back later is a new entry', async () => {
    // Act
    const written = [
      await store.record(version('web', 'v1', T0)),
      await store.record(version('web', 'v1', T0 + 1)),
      await store.record(version('web', 'v2', T0 + 2)),
      await store.record(version('web', 'v1', T0 + 3)),
    ];

    // Assess
    expect(written).toEqual([true, false, true, true]);
    const { versions, next } = await store.list('web', { limit: 10 });
    expect(versions.map((v) => [v.hash, v.recordedAt])).toEqual([
      [version('web', 'v1', 0).hash, T0 + 3],
      [version('web', 'v2', 0).hash, T0 + 2],
      [version('web', 'v1', 0).hash, T0],
    ]);
    expect(next).toBeUndefined();
    expect(await store.get('web', version('web', 'v1', 0).hash)).toEqual(version('web', 'v1', T0 + 3));
    expect(await store.get('web', version('web', 'v3', 0).hash)).toBeUndefined();
    expect(await store.list('other', { limit: 10 })).toEqual({ versions: [] });
  });

  it('pages with cursors through every version exactly once', async () => {
    // Prepare
    for (let i = 0; i < 7; i++) await store.record(version('paged', `p${i}`, T0 + i));

    // Act
    const seen: number[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page = await store.list('paged', { limit: 3, before });
      seen.push(...page.versions.map((v) => v.recordedAt));
      before = page.next;
      pages++;
    } while (before);

    // Assess
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => T0 + i));
    expect(pages).toBe(3);
  });

  it('loses no version when several writers record at once', async () => {
    // Act
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.record(version('busy', `b${i}`, T0 + i))));

    // Assess
    expect(results).toEqual(Array(6).fill(true));
    const { versions } = await store.list('busy', { limit: 10 });
    expect(new Set(versions.map((v) => v.hash)).size).toBe(6);
  });
});

describe('configuration history through the ingest, S3 and the body cache', () => {
  let stores: Stores;
  let ingest: BucketIngest;
  let fleet: DynamoFleetStore;
  const clock = { now: T0 };

  beforeAll(async () => {
    stores = await provisionStores();
    fleet = new DynamoFleetStore(stores.clients.dynamodb, stores.tableName);
    ingest = new BucketIngest({
      objects: stores.objects,
      fleet,
      now: () => clock.now,
      telemetry: NO_TELEMETRY,
      maxConfigFileBytes: 1 << 20,
      history: { store: stores.configHistory, state: stores.stateObjects, principal: 'local' },
    });
  });

  async function put(key: string, body: string) {
    await stores.objects.putObject(key, new TextEncoder().encode(body));
    clock.now += 1000;
    await ingest.reconcile();
  }

  it('records a version per change with its files copied to the state bucket, and serves an earlier one from the copies after the bucket changed', async () => {
    // Prepare
    await put('configs/web/collector.yaml', 'receivers: {v: 1}\n');
    await put('configs/web/collector.yaml', 'receivers: {v: 2}\n');
    const { versions } = await stores.configHistory.list('web', { limit: 10 });
    const first = versions[1]!;

    // Act
    const meta = await historicConfig(stores.configHistory, 'web', first.hash);
    const cache = new ConfigBodyCache(stores.objects, 1 << 20, stores.stateObjects);
    const map = await cache.load(meta!);

    // Assess
    expect(versions.map((v) => v.principal)).toEqual(['local', 'local']);
    expect(versions[0]!.hash).toBe((await fleet.load()).state.configs.get('web')!.hash);
    expect(text((await stores.stateObjects.getObject(historyBlobKey(first.files[0]!.sha256)))?.bytes)).toBe('receivers: {v: 1}\n');
    expect(text(map.configMap['collector.yaml']?.body)).toBe('receivers: {v: 1}\n');
    expect(map.configMap['collector.yaml']?.contentType).toBe('text/yaml');
  });

  it('refuses a history copy that does not match its hash, as it refuses a changed bucket object', async () => {
    // Prepare
    await put('configs/damaged/a.yaml', 'original\n');
    const [recorded] = (await stores.configHistory.list('damaged', { limit: 1 })).versions;
    await stores.stateObjects.putObject(historyBlobKey(recorded!.files[0]!.sha256), new TextEncoder().encode('not the original\n'));

    // Act
    const loading = new ConfigBodyCache(stores.objects, 1 << 20, stores.stateObjects).load((await historicConfig(stores.configHistory, 'damaged', recorded!.hash))!);

    // Assess
    await expect(loading).rejects.toBeInstanceOf(ConfigContentChangedError);
  });

  it('restores an earlier version into the bucket from the copies; the ingest records it as the newest', async () => {
    // Prepare
    await put('configs/svc/a.yaml', 'a: 1\n');
    await put('configs/svc/b.yaml', 'b: 1\n');
    const [, onlyA] = (await stores.configHistory.list('svc', { limit: 10 })).versions;
    const admin = new FleetAdmin({
      objects: stores.objects,
      fleet,
      agents: new DynamoAgentStore({ client: stores.clients.dynamodb, tableName: stores.tableName, blobs: stores.blobs }),
      now: () => clock.now,
      remoteConfig: POLICY,
      history: { store: stores.configHistory, state: stores.stateObjects },
    });

    // Act
    await admin.restoreVersion('svc', onlyA!.hash);
    clock.now += 1000;
    await ingest.reconcile();

    // Assess
    expect((await stores.objects.listObjects('configs/svc/')).map((o) => o.key)).toEqual(['configs/svc/a.yaml']);
    const { versions } = await stores.configHistory.list('svc', { limit: 10 });
    expect(versions.map((v) => v.hash)).toEqual([onlyA!.hash, versions[1]!.hash, onlyA!.hash]);
    expect((await fleet.load()).state.configs.get('svc')!.hash).toBe(onlyA!.hash);
  });
});
