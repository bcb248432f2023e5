import { describe, expect, it } from 'vitest';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { configHash } from '../../../functions/core/config-hash.js';
import { resolveConfigTarget } from '../../../functions/core/targeting.js';
import type { TargetAgent } from '../../../functions/core/targeting.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { FleetSnapshot } from '../../../functions/ports/fleet-store.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../../functions/service/bucket-ingest.js';
import { MemoryObjectStore, sha256Hex } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const CHECKOUT_AGENT: TargetAgent = { instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6', attributes: { 'service.name': 'checkout' } };

function setup(maxConfigFileBytes = 1024) {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const clock = { now: T0 };
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry: NO_TELEMETRY, maxConfigFileBytes });
  /** Delivers the events produced since the last call (or since `mark`), in order. */
  let delivered = 0;
  const deliverNew = async () => {
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    return ingest.handleEvent(batch);
  };
  /** Marks the events so far as lost: they are never delivered. */
  const loseNew = () => {
    delivered = objects.events.length;
  };
  return { objects, fleet, ingest, clock, deliverNew, loseNew };
}

/** What the store recorded, without the generation (which counts changes, not state). */
function recorded(snapshot: FleetSnapshot) {
  return {
    configFiles: [...snapshot.configFiles].sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1)),
    assignments: [...snapshot.assignments].sort((a, b) => (a.name < b.name ? -1 : 1)),
    configs: [...snapshot.state.configs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    inForce: [...snapshot.state.assignments].sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

describe('BucketIngest.handleEvent', () => {
  describe('configuration files', () => {
    it('records an uploaded file with its hash, size, inferred content type and ETag, and bumps the generation', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = setup();
      await objects.put('configs/checkout/collector.yaml', 'receivers: {}\n');

      // Act
      const outcomes = await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(outcomes).toEqual(['recorded']);
      expect(snapshot.configFiles).toEqual([
        expect.objectContaining({
          configName: 'checkout',
          fileName: 'collector.yaml',
          objectKey: 'configs/checkout/collector.yaml',
          sha256: sha256Hex('receivers: {}\n'),
          size: 14,
          contentType: 'text/yaml',
          etag: (await objects.listObjects('configs/'))[0]!.etag,
          updatedAt: T0,
        }),
      ]);
      expect(snapshot.configFiles[0]!.error).toBeUndefined();
      expect(snapshot.state.configs.get('checkout')?.hash).toBe(configHash([{ fileName: 'collector.yaml', contentType: 'text/yaml', sha256: sha256Hex('receivers: {}\n') }]));
      expect(await fleet.generation()).toBe('1');
    });

    it.each<[string, string | undefined, string]>([
      ['keeps the Content-Type the upload gave', 'application/x-yaml', 'application/x-yaml'],
      ['infers the type when the upload gave the S3 default', 'binary/octet-stream', 'text/yaml'],
      ['infers the type when the upload gave none', undefined, 'text/yaml'],
    ])('%s', async (_name, uploaded, expected) => {
      // Prepare
      const { objects, fleet, deliverNew } = setup();
      await objects.put('configs/checkout/collector.yaml', 'x: 1', uploaded);

      // Act
      await deliverNew();

      // Assess
      expect((await fleet.load()).configFiles[0]?.contentType).toBe(expected);
    });

    it('records a nested file under its whole name, with spaces and "+" decoded from the event key', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = setup();
      await objects.put('configs/checkout/processors/batch one+two.yaml', 'processors: {}');

      // Act
      const outcomes = await deliverNew();

      // Assess
      expect(outcomes).toEqual(['recorded']);
      expect(objects.events[0]!.s3.object.key).toBe('configs/checkout/processors/batch+one%2Btwo.yaml');
      expect((await fleet.load()).state.configs.get('checkout')?.files.map((f) => f.fileName)).toEqual(['processors/batch one+two.yaml']);
    });

    it('tombstones a removed file: the configuration loses it, and disappears with its last file', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = setup();
      await objects.put('configs/checkout/a.yaml', 'a');
      await objects.put('configs/checkout/b.yaml', 'b');
      await deliverNew();

      // Act
      await objects.deleteObject('configs/checkout/a.yaml');
      const first = await deliverNew();
      const afterFirst = (await fleet.load()).state.configs.get('checkout');
      await objects.deleteObject('configs/checkout/b.yaml');
      const second = await deliverNew();

      // Assess
      expect([first, second]).toEqual([['recorded'], ['recorded']]);
      expect(afterFirst?.files.map((f) => f.fileName)).toEqual(['b.yaml']);
      const snapshot = await fleet.load();
      expect(snapshot.configFiles).toEqual([]);
      expect(snapshot.state.configs.has('checkout')).toBe(false);
    });
  });

  describe('event order', () => {
    it('treats an older event (lower sequencer) arriving after a newer one as stale: nothing changes', async () => {
      // Prepare: v1 and v2 uploaded, only v2's event delivered; then v3 uploaded, its event still on its way.
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'v1');
      await objects.put('configs/checkout/c.yaml', 'v2');
      const [e1, e2] = objects.events as [BucketEventRecord, BucketEventRecord];
      await ingest.handleEvent([e2]);
      await objects.put('configs/checkout/c.yaml', 'v3');
      const before = await fleet.load();

      // Act
      const outcomes = await ingest.handleEvent([e1]);

      // Assess
      const after = await fleet.load();
      expect(outcomes).toEqual(['stale']);
      expect(after.configFiles[0]?.sha256).toBe(sha256Hex('v2'));
      expect(recorded(after)).toEqual(recorded(before));
      expect(await fleet.generation()).toBe(before.state.generation);
    });

    it('applies a newer event whose sequencer is longer (FFFF < 10000)', async () => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'v1'); // FFFE
      await objects.put('configs/checkout/c.yaml', 'v2'); // FFFF
      await ingest.handleEvent(objects.events.slice(0, 2));
      await objects.put('configs/checkout/c.yaml', 'v3'); // 10000
      const e3 = objects.events[2]!;

      // Act
      const outcomes = await ingest.handleEvent([e3]);

      // Assess
      expect(e3.s3.object.sequencer).toBe('10000');
      expect(outcomes).toEqual(['recorded']);
      expect((await fleet.load()).configFiles[0]?.sha256).toBe(sha256Hex('v3'));
    });

    it('keeps a removed file removed when the older upload event arrives after the removal event', async () => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'v1');
      await objects.deleteObject('configs/checkout/c.yaml');
      const [created, removed] = objects.events as [BucketEventRecord, BucketEventRecord];

      // Act
      const outcomes = [...(await ingest.handleEvent([removed])), ...(await ingest.handleEvent([created]))];

      // Assess
      expect(outcomes).toEqual(['recorded', 'stale']);
      expect((await fleet.load()).configFiles).toEqual([]);
    });

    it('records a redelivered event again (an equal sequencer is not "later"), reading the object as it is now', async () => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'v1');
      const [e1] = objects.events as [BucketEventRecord];
      await ingest.handleEvent([e1]);
      await objects.put('configs/checkout/c.yaml', 'v2'); // its event is still on its way

      // Act
      const outcomes = await ingest.handleEvent([e1]);

      // Assess
      expect(outcomes).toEqual(['recorded']);
      expect((await fleet.load()).configFiles[0]?.sha256).toBe(sha256Hex('v2'));
    });

    it('handles the same event twice idempotently', async () => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'v1');
      await objects.put('assignments/route.json', '{"config": "checkout", "selector": "service.name=checkout"}');
      await ingest.handleEvent(objects.events);
      const once = recorded(await fleet.load());

      // Act
      const again = await ingest.handleEvent([...objects.events, ...objects.events]);

      // Assess
      expect(again).not.toContain('ignored');
      expect(recorded(await fleet.load())).toEqual(once);
    });
  });

  describe('unrelated events', () => {
    it.each<[string, BucketEventRecord]>([
      ['a key outside configs/ and assignments/', { eventName: 'ObjectCreated:Put', s3: { object: { key: 'notes/readme.txt', sequencer: '1' } } }],
      ['a folder marker', { eventName: 'ObjectCreated:Put', s3: { object: { key: 'configs/checkout/', sequencer: '1' } } }],
      ['an S3 test event', { eventName: 's3:TestEvent', s3: { object: { key: 'configs/checkout/c.yaml' } } }],
      ['a restore event', { eventName: 'ObjectRestore:Completed', s3: { object: { key: 'configs/checkout/c.yaml', sequencer: '1' } } }],
      ['a tagging event', { eventName: 'ObjectTagging:Put', s3: { object: { key: 'configs/checkout/c.yaml', sequencer: '1' } } }],
    ])('ignores %s: no read, no write, no new generation', async (_name, event) => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/c.yaml', 'present');

      // Act
      const outcomes = await ingest.handleEvent([event]);

      // Assess
      expect(outcomes).toEqual(['ignored']);
      expect(objects.gets).toEqual([]);
      expect((await fleet.load()).configFiles).toEqual([]);
      expect(await fleet.generation()).toBe('0');
    });

    it('answers every record of a batch, and bumps the generation once', async () => {
      // Prepare
      const { objects, fleet, ingest } = setup();
      await objects.put('configs/checkout/a.yaml', 'a');
      await objects.put('notes/readme.txt', 'ignored');
      await objects.put('configs/checkout/b.yaml', 'b');

      // Act
      const outcomes = await ingest.handleEvent(objects.events);

      // Assess
      expect(outcomes).toEqual(['recorded', 'ignored', 'recorded']);
      expect(await fleet.generation()).toBe('1');
    });
  });

  describe('assignments', () => {
    const VALID = '{"config": "checkout", "selector": "service.name=checkout", "priority": 5}';
    const MALFORMED = '{"config": "checkout", "selector": "service.name=checkout", "prio": 5}';

    async function withConfigs() {
      const s = setup();
      await s.objects.put('configs/default/c.yaml', 'default');
      await s.objects.put('configs/checkout/c.yaml', 'checkout');
      await s.deliverNew();
      return s;
    }

    it('records a valid assignment, which then targets matching agents', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = await withConfigs();
      await objects.put('assignments/route.json', VALID);

      // Act
      await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(snapshot.assignments).toEqual([
        expect.objectContaining({
          name: 'route',
          assignment: { name: 'route', config: 'checkout', selector: [{ key: 'service.name', value: 'checkout' }], priority: 5 },
        }),
      ]);
      expect(resolveConfigTarget(CHECKOUT_AGENT, snapshot.state)?.via).toBe('route');
    });

    it("records a malformed upload's error and keeps the previous valid assignment in force", async () => {
      // Prepare
      const { objects, fleet, deliverNew } = await withConfigs();
      await objects.put('assignments/route.json', VALID);
      await deliverNew();

      // Act
      await objects.put('assignments/route.json', MALFORMED);
      const outcomes = await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(outcomes).toEqual(['recorded']);
      expect(snapshot.assignments[0]).toMatchObject({
        name: 'route',
        assignment: { config: 'checkout', priority: 5 },
        error: expect.stringMatching(/^assignments\/route\.json: .*prio/),
        errorAt: T0,
      });
      expect(snapshot.assignments[0]!.error).not.toMatch(/\n/);
      expect(snapshot.state.assignments).toEqual([expect.objectContaining({ name: 'route', config: 'checkout', error: snapshot.assignments[0]!.error })]);
      expect(resolveConfigTarget(CHECKOUT_AGENT, snapshot.state)).toMatchObject({ via: 'route', configName: 'checkout' });
    });

    it('does not put a malformed first upload in force', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = await withConfigs();
      await objects.put('assignments/route.json', MALFORMED);

      // Act
      await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(snapshot.assignments).toEqual([expect.objectContaining({ name: 'route', error: expect.stringContaining('prio') })]);
      expect(snapshot.assignments[0]!.assignment).toBeUndefined();
      expect(snapshot.state.assignments).toEqual([]);
      expect(resolveConfigTarget(CHECKOUT_AGENT, snapshot.state)?.via).toBe('default');
    });

    it('clears the error when a valid version follows the malformed one', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = await withConfigs();
      await objects.put('assignments/route.json', MALFORMED);
      await deliverNew();

      // Act
      await objects.put('assignments/route.json', VALID.replace('"priority": 5', '"priority": 6'));
      await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(snapshot.assignments[0]?.error).toBeUndefined();
      expect(snapshot.state.assignments).toEqual([expect.objectContaining({ name: 'route', priority: 6 })]);
      expect(snapshot.state.assignments[0]?.error).toBeUndefined();
    });

    it('stops targeting with a removed assignment', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = await withConfigs();
      await objects.put('assignments/route.json', VALID);
      await deliverNew();

      // Act
      await objects.deleteObject('assignments/route.json');
      await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(snapshot.assignments).toEqual([]);
      expect(resolveConfigTarget(CHECKOUT_AGENT, snapshot.state)?.via).toBe('default');
    });
  });

  describe('oversized configuration files', () => {
    it('records an error for a file over the limit and leaves its configuration out of the fleet state', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = setup(16);
      await objects.put('configs/big/small.yaml', 'a: 1');
      await objects.put('configs/big/large.yaml', 'x'.repeat(17));
      await objects.put('configs/other/exact.yaml', 'y'.repeat(16));

      // Act
      const outcomes = await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(outcomes).toEqual(['recorded', 'recorded', 'recorded']);
      const large = snapshot.configFiles.find((f) => f.fileName === 'large.yaml');
      expect(large).toMatchObject({ size: 17, sha256: sha256Hex('x'.repeat(17)) });
      expect(large?.error).toMatch(/17 bytes.*16/);
      expect(snapshot.configFiles.find((f) => f.fileName === 'exact.yaml')?.error).toBeUndefined();
      expect([...snapshot.state.configs.keys()]).toEqual(['other']);
    });

    it('brings the configuration back once the file fits again', async () => {
      // Prepare
      const { objects, fleet, deliverNew } = setup(16);
      await objects.put('configs/big/large.yaml', 'x'.repeat(17));
      await deliverNew();

      // Act
      await objects.put('configs/big/large.yaml', 'x'.repeat(3));
      await deliverNew();

      // Assess
      const snapshot = await fleet.load();
      expect(snapshot.configFiles[0]?.error).toBeUndefined();
      expect(snapshot.state.configs.get('big')?.files.map((f) => f.size)).toEqual([3]);
    });
  });
});

describe('BucketIngest.reconcile', () => {
  async function ingested() {
    const s = setup();
    await s.objects.put('configs/checkout/a.yaml', 'a');
    await s.objects.put('configs/checkout/b.yaml', 'b');
    await s.objects.put('assignments/route.json', '{"config": "checkout", "selector": "service.name=checkout"}');
    await s.deliverNew();
    return s;
  }

  it('does nothing on an empty bucket and store: no change, no new generation', async () => {
    // Prepare
    const { fleet, ingest } = setup();

    // Act
    const changed = await ingest.reconcile();

    // Assess
    expect(changed).toBe(0);
    expect(await fleet.generation()).toBe('0');
  });

  it('records objects whose events were missed, tombstones what is gone, and bumps the generation once', async () => {
    // Prepare
    const { objects, fleet, ingest, loseNew } = await ingested();
    const generation = Number(await fleet.generation());
    await objects.put('configs/checkout/c.yaml', 'c');
    await objects.put('assignments/broken.json', '{');
    objects.silentlyDelete('configs/checkout/b.yaml');
    objects.silentlyDelete('assignments/route.json');
    loseNew();

    // Act
    const changed = await ingest.reconcile();

    // Assess
    const snapshot = await fleet.load();
    expect(changed).toBe(4);
    expect(snapshot.configFiles.map((f) => f.fileName).sort()).toEqual(['a.yaml', 'c.yaml']);
    expect(snapshot.assignments.map((a) => [a.name, a.assignment !== undefined, a.error !== undefined])).toEqual([['broken', false, true]]);
    expect(Number(await fleet.generation())).toBe(generation + 1);
  });

  it('skips objects whose ETag is unchanged: a second reconcile reads nothing and changes nothing', async () => {
    // Prepare
    const { objects, fleet, ingest } = await ingested();
    await objects.put('assignments/broken.json', '{');
    await ingest.reconcile();
    const generation = await fleet.generation();
    const reads = objects.gets.length;

    // Act
    const changed = await ingest.reconcile();

    // Assess
    expect(changed).toBe(0);
    expect(objects.gets.length).toBe(reads);
    expect(await fleet.generation()).toBe(generation);
  });

  it('re-reads exactly the objects whose ETag changed', async () => {
    // Prepare
    const { objects, fleet, ingest, loseNew } = await ingested();
    await objects.put('configs/checkout/a.yaml', 'a, changed');
    loseNew();
    const reads = objects.gets.length;

    // Act
    const changed = await ingest.reconcile();

    // Assess
    expect(changed).toBe(1);
    expect(objects.gets.slice(reads).map((g) => g.key)).toEqual(['configs/checkout/a.yaml']);
    expect((await fleet.load()).configFiles.find((f) => f.fileName === 'a.yaml')?.sha256).toBe(sha256Hex('a, changed'));
  });

  it('keeps the event order: an older event after a reconcile is still stale, a newer one applies', async () => {
    // Prepare
    const { objects, fleet, ingest } = setup();
    await objects.put('configs/checkout/c.yaml', 'v1');
    await objects.put('configs/checkout/c.yaml', 'v2');
    const [e1, e2] = objects.events as [BucketEventRecord, BucketEventRecord];
    await ingest.handleEvent([e2]);
    await objects.put('configs/checkout/c.yaml', 'v3');
    await ingest.reconcile();

    // Act
    const late = await ingest.handleEvent([e1]);
    const kept = (await fleet.load()).configFiles[0]?.sha256;
    await objects.deleteObject('configs/checkout/c.yaml');
    const removal = await ingest.handleEvent([objects.events.at(-1)!]);

    // Assess
    expect(late).toEqual(['stale']);
    expect(kept).toBe(sha256Hex('v3'));
    expect(removal).toEqual(['recorded']);
    expect((await fleet.load()).configFiles).toEqual([]);
  });
});
