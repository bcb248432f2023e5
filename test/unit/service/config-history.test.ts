import { describe, expect, it } from 'vitest';
import { MemoryConfigHistoryStore } from '../../../functions/adapters/memory/config-history-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { configHash } from '../../../functions/core/config-hash.js';
import { historyBlobKey } from '../../../functions/core/config-history.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { historicConfig, recordConfigVersion } from '../../../functions/service/config-history.js';
import { MemoryObjectStore, sha256Hex } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(maxConfigFileBytes = 1024) {
  const objects = new MemoryObjectStore();
  const state = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const history = new MemoryConfigHistoryStore();
  const clock = { now: T0 };
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry: NO_TELEMETRY, maxConfigFileBytes, history: { store: history, state, principal: 'bucket' } });
  let delivered = 0;
  const deliverNew = async () => {
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    clock.now += 1000;
    return ingest.handleEvent(batch);
  };
  const versions = async (name: string) => (await history.list(name, { limit: 100 })).versions;
  return { objects, state, fleet, history, ingest, clock, deliverNew, versions };
}

describe('configuration history in the bucket ingest', () => {
  it('records a version per change, with the hash the fleet state offers, and copies each file by content hash', async () => {
    // Prepare
    const { objects, state, fleet, deliverNew, versions } = setup();

    // Act
    await objects.put('configs/web/a.yaml', 'a: 1\n');
    await deliverNew();
    await objects.put('configs/web/b.yaml', 'b: 1\n');
    await deliverNew();

    // Assess
    const [newest, first] = await versions('web');
    expect(newest!.hash).toBe((await fleet.load()).state.configs.get('web')!.hash);
    expect(newest).toMatchObject({ configName: 'web', principal: 'bucket', recordedAt: T0 + 2000 });
    expect(newest!.files.map((f) => f.fileName)).toEqual(['a.yaml', 'b.yaml']);
    expect(first!.hash).toBe(configHash([{ fileName: 'a.yaml', contentType: 'text/yaml', sha256: sha256Hex('a: 1\n') }]));
    expect((await state.listObjects('')).map((o) => o.key).sort()).toEqual([historyBlobKey(sha256Hex('a: 1\n')), historyBlobKey(sha256Hex('b: 1\n'))].sort());
    expect((await state.getObject(historyBlobKey(sha256Hex('b: 1\n'))))?.contentType).toBe('text/yaml');
  });

  it('records nothing for an event that changes nothing, and writes a shared copy once', async () => {
    // Prepare
    const { objects, state, deliverNew, versions } = setup();
    await objects.put('configs/web/a.yaml', 'same\n');
    await objects.put('configs/api/a.yaml', 'same\n');
    await deliverNew();
    const writes = state.events.length;

    // Act: the same content again, and the same events delivered twice
    await objects.put('configs/web/a.yaml', 'same\n');
    await deliverNew();

    // Assess
    expect(await versions('web')).toHaveLength(1);
    expect(await versions('api')).toHaveLength(1);
    expect(writes).toBe(1);
    expect(state.events.length).toBe(1);
  });

  it('records a removed file as a new version, and nothing once the configuration is gone', async () => {
    // Prepare
    const { objects, deliverNew, versions } = setup();
    await objects.put('configs/web/a.yaml', 'a\n');
    await objects.put('configs/web/b.yaml', 'b\n');
    await deliverNew();

    // Act
    await objects.deleteObject('configs/web/b.yaml');
    await deliverNew();
    await objects.deleteObject('configs/web/a.yaml');
    await deliverNew();

    // Assess
    const list = await versions('web');
    expect(list.map((v) => v.files.map((f) => f.fileName))).toEqual([['a.yaml'], ['a.yaml', 'b.yaml']]);
  });

  it('records no version while a file cannot be served (too large), and the one after it is fixed', async () => {
    // Prepare
    const { objects, state, deliverNew, versions } = setup(16);
    await objects.put('configs/web/a.yaml', 'a\n');
    await deliverNew();

    // Act
    await objects.put('configs/web/big.yaml', 'x'.repeat(100));
    await deliverNew();
    const during = await versions('web');
    await objects.put('configs/web/big.yaml', 'small\n');
    await deliverNew();

    // Assess
    expect(during).toHaveLength(1);
    expect(await versions('web')).toHaveLength(2);
    expect(await state.getObject(historyBlobKey(sha256Hex('x'.repeat(100))))).toBeUndefined();
  });

  it('a reconcile that finds several changes of one configuration records one version', async () => {
    // Prepare
    const { objects, ingest, versions } = setup();
    await objects.put('configs/web/a.yaml', 'a\n');
    await objects.put('configs/web/b.yaml', 'b\n');

    // Act
    await ingest.reconcile();
    await ingest.reconcile();

    // Assess
    const list = await versions('web');
    expect(list).toHaveLength(1);
    expect(list[0]!.files.map((f) => f.fileName)).toEqual(['a.yaml', 'b.yaml']);
  });

  it('records no version when the object changed after it was recorded (its own event records it), and no copy of wrong bytes', async () => {
    // Prepare
    const { objects, state, fleet, history, versions } = setup();
    await objects.put('configs/web/a.yaml', 'recorded\n');
    await fleet.putConfigFile({ configName: 'web', fileName: 'a.yaml', objectKey: 'configs/web/a.yaml', sha256: sha256Hex('recorded\n'), size: 9, contentType: 'text/yaml', updatedAt: T0 }, {});
    objects.tamper('configs/web/a.yaml', 'changed\n');

    // Act
    const outcome = await recordConfigVersion({ objects, state, fleet, history, now: () => T0 }, 'web', 'bucket');

    // Assess
    expect(outcome).toBe('moved');
    expect(await versions('web')).toEqual([]);
    expect(await state.listObjects('')).toEqual([]);
  });

  it('copies every file before the version is recorded: a failed copy records nothing, and the retried event records it', async () => {
    // Prepare
    const { objects, state, ingest, versions } = setup();
    await objects.put('configs/web/a.yaml', 'a\n');
    await objects.put('configs/web/b.yaml', 'b\n');
    const put = state.putObject.bind(state);
    let failures = 1;
    state.putObject = async (key, bytes, contentType) => {
      if (key.endsWith(sha256Hex('b\n')) && failures-- > 0) throw new Error('S3 unavailable');
      return put(key, bytes, contentType);
    };

    // Act
    const failed = await ingest.handleEvent(objects.events).catch((error: Error) => error);
    const during = await versions('web');
    await ingest.handleEvent(objects.events);

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(during).toEqual([]);
    expect((await versions('web')).map((v) => v.files.length)).toEqual([2]);
  });

  it('historicConfig gives a servable ConfigMeta for any recorded version, read from the history copies', async () => {
    // Prepare
    const { objects, history, deliverNew, versions } = setup();
    await objects.put('configs/web/a.yaml', 'v1\n');
    await deliverNew();
    await objects.put('configs/web/a.yaml', 'v2\n');
    await deliverNew();
    const [, first] = await versions('web');

    // Act
    const meta = await historicConfig(history, 'web', first!.hash);
    const missing = await historicConfig(history, 'web', Buffer.alloc(32).toString('base64'));

    // Assess
    expect(meta).toEqual({
      name: 'web',
      hash: first!.hash,
      files: [{ fileName: 'a.yaml', objectKey: historyBlobKey(sha256Hex('v1\n')), sha256: sha256Hex('v1\n'), size: 3, contentType: 'text/yaml', source: 'history' }],
    });
    expect(missing).toBeUndefined();
  });
});
