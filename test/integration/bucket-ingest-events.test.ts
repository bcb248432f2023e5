import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3rverEventRecord } from 's3rver';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { S3ObjectStore } from '../../functions/adapters/s3/object-store.js';
import { classifyObjectKey } from '../../functions/core/bucket-layout.js';
import { asS3EventRecords, startS3Emulator } from '../../functions/local/emulators.js';
import type { RunningS3Emulator } from '../../functions/local/emulators.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import type { FleetSnapshot } from '../../functions/ports/fleet-store.js';
import { BucketIngest } from '../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../functions/service/bucket-ingest.js';
import { bucketClient, deleteObject, uploadObject } from '../support/bucket.js';
import { freshTable } from './fleet-table.js';
import { emulatorClients, uniqueName } from './harness.js';

/**
 * BucketIngest fed with the notifications of a real S3 emulator (s3rver), as
 * the local backend feeds them: the records as emitted, in delivery order and
 * in reverse, once and twice. Each test has its own bucket and table.
 */

const T0 = Date.UTC(2026, 0, 1);
const dynamodb = emulatorClients().dynamodb;

let scratch: string;
let emulator: RunningS3Emulator;
let s3: S3Client;
const events: Array<{ bucket: string; record: S3rverEventRecord }> = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'opamp-ingest-events-'));
  emulator = await startS3Emulator({ directory: scratch });
  emulator.server.on('event', (event: { Records: S3rverEventRecord[] }) => {
    for (const record of event.Records) events.push({ bucket: record.s3.bucket.name, record });
  });
  s3 = bucketClient(emulator.endpoint);
});

afterAll(async () => {
  await emulator?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Bucket {
  name: string;
  put(key: string, body: string, contentType?: string): Promise<void>;
  remove(key: string): Promise<void>;
  /**
   * The notifications for this bucket so far, in the order s3rver emitted
   * them, with their keys encoded as the local backend passes them on (s3rver
   * emits raw keys; S3 and BucketIngest use URL-encoded ones).
   */
  events(): BucketEventRecord[];
}

async function newBucket(): Promise<Bucket> {
  const name = uniqueName('ingest');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    put: (key, body, contentType) => uploadObject(s3, name, key, body, contentType),
    remove: (key) => deleteObject(s3, name, key),
    events: () => asS3EventRecords(events.filter((e) => e.bucket === name).map((e) => e.record as unknown as BucketEventRecord)),
  };
}

/** A fresh table, and an ingest from the bucket into it (the S3 adapter talks to this test's emulator). */
async function newIngest(bucket: Bucket) {
  const tableName = await freshTable(dynamodb);
  const fleet = new DynamoFleetStore(dynamodb, tableName);
  const clients = createAwsClients({ dynamodbEndpoint: inject('dynamodbEndpoint'), s3Endpoint: emulator.endpoint, emulated: true });
  const objects = new S3ObjectStore(clients.s3, bucket.name);
  const ingest = new BucketIngest({ objects, fleet, now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 64 * 1024 });
  return { fleet, ingest };
}

/** What the bucket holds now, read straight from it: config files by key, assignment texts by name. */
async function bucketState(bucket: Bucket) {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket.name }));
  const files: Array<{ objectKey: string; sha256: string; size: number }> = [];
  const assignments: Array<{ name: string; text: string }> = [];
  for (const { Key } of out.Contents ?? []) {
    const target = classifyObjectKey(Key!);
    if (target.kind === 'ignored') continue;
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    const bytes = await object.Body!.transformToByteArray();
    if (target.kind === 'config-file') files.push({ objectKey: Key!, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.byteLength });
    if (target.kind === 'assignment') assignments.push({ name: target.name, text: new TextDecoder().decode(bytes) });
  }
  return { files: files.sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1)), assignments };
}

/** The recorded state, without the generation (which counts deliveries, not state). */
function recorded(snapshot: FleetSnapshot) {
  return {
    configFiles: [...snapshot.configFiles].sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1)),
    assignments: [...snapshot.assignments].sort((a, b) => (a.name < b.name ? -1 : 1)),
    configs: [...snapshot.state.configs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

/** Waits until s3rver has emitted `count` notifications for the bucket (it emits as it answers). */
async function eventsOf(bucket: Bucket, count: number): Promise<BucketEventRecord[]> {
  for (let i = 0; i < 100 && bucket.events().length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(bucket.events()).toHaveLength(count);
  return bucket.events();
}

/** A history of uploads, overwrites and removals: the final state keeps a bit of everything. */
async function history(bucket: Bucket): Promise<number> {
  const steps: Array<() => Promise<void>> = [
    () => bucket.put('configs/checkout/collector.yaml', 'receivers: {otlp: {}}\n'),
    () => bucket.put('configs/checkout/processors/batch.yaml', 'processors: {batch: {}}\n'),
    () => bucket.put('configs/checkout/removed.yaml', 'soon gone\n'),
    () => bucket.put('configs/default/collector.yaml', 'receivers: {}\n', 'application/x-yaml'),
    () => bucket.put('assignments/checkout.json', '{"config": "checkout", "selector": "service.name=checkout"}'),
    () => bucket.put('configs/checkout/collector.yaml', 'receivers: {otlp: {}, prometheus: {}}\n'),
    () => bucket.remove('configs/checkout/removed.yaml'),
    () => bucket.put('assignments/canary.json', '{"config": "canary", "instanceUid": "0192F9E4-8A1B-7C3D-9E4F-A1B2C3D4E5F6"}'),
    () => bucket.put('assignments/broken.json', '{"config": "checkout"'),
    () => bucket.put('configs/gone/a.yaml', 'a\n'),
    () => bucket.remove('configs/gone/a.yaml'),
    () => bucket.put('notes/readme.txt', 'not fleet configuration\n'),
    () => bucket.put('configs/default/collector.yaml', 'receivers: {hostmetrics: {}}\n'),
    () => bucket.put('configs/default/with space.yaml', 'exporters: {}\n', 'application/x-yaml'),
    () => bucket.put('configs/checkout/v1+2%.yaml', 'extensions: {}\n'),
    () => bucket.put('assignments/removed.json', '{"config": "default", "selector": "a=b"}'),
    () => bucket.remove('assignments/removed.json'),
  ];
  for (const step of steps) await step();
  return steps.length;
}

describe('BucketIngest fed by s3rver events', () => {
  it("records the bucket's final state whether the events arrive in delivery order or reversed", async () => {
    // Prepare
    const bucket = await newBucket();
    const events = await eventsOf(bucket, await history(bucket));
    const inOrder = await newIngest(bucket);
    const reversed = await newIngest(bucket);

    // Act
    await inOrder.ingest.handleEvent(events);
    await reversed.ingest.handleEvent([...events].reverse());

    // Assess
    const expected = await bucketState(bucket);
    const a = recorded(await inOrder.fleet.load());
    const b = recorded(await reversed.fleet.load());
    expect(b).toEqual(a);
    expect(a.configFiles.map(({ objectKey, sha256, size }) => ({ objectKey, sha256, size }))).toEqual(expected.files);
    expect(a.assignments.map((r) => r.name)).toEqual(expected.assignments.map((x) => x.name).sort());
    expect(a.assignments.find((r) => r.name === 'broken')).toMatchObject({ error: expect.stringMatching(/^assignments\/broken\.json: not valid JSON/) });
    expect(a.assignments.find((r) => r.name === 'canary')?.assignment).toMatchObject({ config: 'canary', instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6' });
    expect(a.configs.map((c) => [c.name, c.files.map((f) => f.fileName)])).toEqual([
      ['checkout', ['collector.yaml', 'processors/batch.yaml', 'v1+2%.yaml']],
      ['default', ['collector.yaml', 'with space.yaml']],
    ]);
    expect(a.configFiles.find((f) => f.objectKey === 'configs/default/with space.yaml')?.contentType).toBe('application/x-yaml');
    expect(a.configFiles.find((f) => f.objectKey === 'configs/default/collector.yaml')?.contentType).toBe('text/yaml');
  });

  it('changes nothing when every event is delivered a second time, in either order', async () => {
    // Prepare
    const bucket = await newBucket();
    const events = await eventsOf(bucket, await history(bucket));
    const { fleet, ingest } = await newIngest(bucket);
    await ingest.handleEvent(events);
    const once = recorded(await fleet.load());

    // Act
    await ingest.handleEvent(events);
    await ingest.handleEvent([...events].reverse());

    // Assess
    expect(recorded(await fleet.load())).toEqual(once);
  });

  it('records the same state when the events are handled as they happen, one by one', async () => {
    // Prepare
    const bucket = await newBucket();
    const { fleet, ingest } = await newIngest(bucket);
    const batch = await newIngest(bucket);
    let seen = 0;
    const original = bucket.put;
    const follow = async () => {
      const all = await eventsOf(bucket, seen + 1);
      await ingest.handleEvent(all.slice(seen));
      seen = all.length;
    };
    bucket.put = async (...args) => {
      await original(...args);
      await follow();
    };
    const originalRemove = bucket.remove;
    bucket.remove = async (key) => {
      await originalRemove(key);
      await follow();
    };

    // Act
    const count = await history(bucket);
    await batch.ingest.handleEvent(bucket.events());

    // Assess
    expect(seen).toBe(count);
    const live = recorded(await fleet.load());
    const expected = await bucketState(bucket);
    expect(live.configFiles.map(({ objectKey, sha256, size }) => ({ objectKey, sha256, size }))).toEqual(expected.files);
    expect(live.configs).toEqual(recorded(await batch.fleet.load()).configs);
  });

  it('hears of every delete when a package file and its signature are deleted at once, as a sync with --delete does', async () => {
    // Prepare
    const bucket = await newBucket();
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      await bucket.put(`packages/ext/1.0.${i}/ext.tar.gz`, 'package');
      await bucket.put(`packages/ext/1.0.${i}/ext.tar.gz.sig`, 'signature');
    }
    const { fleet, ingest } = await newIngest(bucket);
    await ingest.handleEvent(await eventsOf(bucket, 2 * rounds));

    // Act
    for (let i = 0; i < rounds; i++) {
      await Promise.all([bucket.remove(`packages/ext/1.0.${i}/ext.tar.gz.sig`), bucket.remove(`packages/ext/1.0.${i}/ext.tar.gz`)]);
    }
    const removals = (await eventsOf(bucket, 4 * rounds)).slice(2 * rounds);
    await ingest.handleEvent(removals);

    // Assess
    expect(removals.every((e) => e.eventName === 'ObjectRemoved:Delete')).toBe(true);
    expect((await fleet.load()).packageVersions).toEqual([]);
  });

  it.each([
    ['a "+"', 'a+b.yaml'],
    ['a "%"', '100%.yaml'],
  ])("records a file whose name contains %s under its own key, from s3rver's event as the local backend passes it on", async (_name, fileName) => {
    // Prepare
    const bucket = await newBucket();
    await bucket.put(`configs/checkout/${fileName}`, 'receivers: {}\n');
    const events = await eventsOf(bucket, 1);
    const { fleet, ingest } = await newIngest(bucket);

    // Act
    const failure = await ingest.handleEvent(events).then(
      () => undefined,
      (error: Error) => error,
    );

    // Assess
    expect(failure).toBeUndefined();
    const { configFiles } = await fleet.load();
    expect(configFiles.map((f) => f.objectKey)).toEqual([`configs/checkout/${fileName}`]);
  });
});
