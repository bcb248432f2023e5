import { describe, expect, it } from 'vitest';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { MemoryRejectedKeyLog } from '../../../functions/adapters/memory/rejected-keys.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../../functions/service/bucket-ingest.js';
import { encodeEventKey, MemoryObjectStore } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const rejectedKeys = new MemoryRejectedKeyLog();
  const ingest = new BucketIngest({ objects, fleet, now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20, rejectedKeys });
  return { objects, fleet, rejectedKeys, ingest };
}

const created = (key: string, sequencer = '1'): BucketEventRecord => ({ eventName: 'ObjectCreated:Put', s3: { object: { key: encodeEventKey(key), sequencer } } });

describe('BucketIngest: keys that break the rules', () => {
  it.each<[string, string, RegExp]>([
    ['a traversal into assignments/', 'configs/x/../../assignments/evil.json', /".." path segment/],
    ['a NUL', 'configs/x/a\u0000.yaml', /control character/],
    ['a 300-byte file name', `configs/x/${'f'.repeat(300)}`, /233 allowed per segment/],
    ['an invalid configuration name', 'configs/bad name/x.yaml', /not a valid configuration name/],
    ['an assignment that is not .json', 'assignments/route.yaml', /assignments\/<name>.json/],
    ['a traversal in a package', 'packages/ext/1.0.0/../../../assignments/a.json', /".." path segment/],
  ])('rejects %s: never read, nothing recorded, reported', async (_name, key, reason) => {
    // Prepare
    const { objects, fleet, rejectedKeys, ingest } = setup();
    await objects.put(key, '{"config": "x"}');

    // Act
    const outcomes = await ingest.handleEvent([created(key)]);

    // Assess
    expect(outcomes).toEqual(['rejected']);
    expect(objects.gets).toEqual([]);
    const snapshot = await fleet.load();
    expect([snapshot.configFiles, snapshot.assignments, snapshot.packageVersions]).toEqual([[], [], []]);
    expect(await fleet.generation()).toBe('0');
    const listed = await rejectedKeys.list();
    expect(listed).toEqual([{ key, reason: expect.stringMatching(reason), at: T0 }]);
  });

  it('rejects a key whose URL encoding is not UTF-8, and reports it as it arrived', async () => {
    // Prepare
    const { rejectedKeys, ingest } = setup();

    // Act
    const outcomes = await ingest.handleEvent([{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'configs/x/%FF.yaml', sequencer: '1' } } }]);

    // Assess
    expect(outcomes).toEqual(['rejected']);
    expect(await rejectedKeys.list()).toEqual([{ key: 'configs/x/%FF.yaml', reason: 'the key is not valid UTF-8 text', at: T0 }]);
  });

  it('ignores keys outside every managed prefix and folder markers silently', async () => {
    // Prepare
    const { rejectedKeys, ingest } = setup();

    // Act
    const outcomes = await ingest.handleEvent([created('notes/../x'), created('README.md'), created('configs/x/')]);

    // Assess
    expect(outcomes).toEqual(['ignored', 'ignored', 'ignored']);
    expect(await rejectedKeys.list()).toEqual([]);
    expect(rejectedKeys.writes).toBe(0);
  });

  it('does not report the removal of a rejected key', async () => {
    // Prepare
    const { rejectedKeys, ingest } = setup();

    // Act
    const outcomes = await ingest.handleEvent([{ eventName: 'ObjectRemoved:Delete', s3: { object: { key: encodeEventKey('configs/x/../y'), sequencer: '2' } } }]);

    // Assess
    expect(outcomes).toEqual(['rejected']);
    expect(rejectedKeys.writes).toBe(0);
  });

  it('records the good keys of a batch and reports the bad ones in one write', async () => {
    // Prepare
    const { objects, fleet, rejectedKeys, ingest } = setup();
    await objects.put('configs/x/good.yaml', 'a: 1');

    // Act
    const outcomes = await ingest.handleEvent([created('configs/x/../bad'), created('configs/x/good.yaml'), created('configs/x/a//b')]);

    // Assess
    expect(outcomes).toEqual(['rejected', 'recorded', 'rejected']);
    expect((await fleet.load()).configFiles.map((f) => f.objectKey)).toEqual(['configs/x/good.yaml']);
    expect((await rejectedKeys.list()).map((e) => e.key)).toEqual(['configs/x/a//b', 'configs/x/../bad']);
    expect(rejectedKeys.writes).toBe(1);
  });

  it('reports what a reconcile finds, and writes nothing when the next one finds the same', async () => {
    // Prepare
    const { objects, fleet, rejectedKeys, ingest } = setup();
    await objects.put('configs/x/good.yaml', 'a: 1');
    await objects.put('configs/x/./dot.yaml', 'b');
    await objects.put('packages/ext/1.0.0/..', 'c');
    await objects.put('certificates/tls/readme.txt', 'd');

    // Act
    await ingest.reconcile();
    const first = await rejectedKeys.list();
    await ingest.reconcile();

    // Assess
    expect(first.map((e) => e.key).sort()).toEqual(['certificates/tls/readme.txt', 'configs/x/./dot.yaml', 'packages/ext/1.0.0/..']);
    expect((await fleet.load()).configFiles.map((f) => f.objectKey)).toEqual(['configs/x/good.yaml']);
    expect(rejectedKeys.writes).toBe(1);
  });
});
