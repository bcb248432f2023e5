import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { S3ObjectStore } from '../../functions/adapters/s3/object-store.js';
import { classifyObjectKey, packageVersionPrefix } from '../../functions/core/bucket-layout.js';
import { packageFolderOfName } from '../../functions/core/packages.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import type { FleetSnapshot } from '../../functions/ports/fleet-store.js';
import { BucketIngest } from '../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../functions/service/bucket-ingest.js';
import { freshTable } from './fleet-table.js';
import { seededRandom } from '../../scripts/bench/agents.js';
import { emulatorClients, uniqueName } from './harness.js';

/**
 * The bucket ingest against dynalite and s3rver, fed the way S3 feeds it in
 * AWS: every change notified at least once (some twice), in any order, each
 * event handled by one of several function instances whose clocks disagree,
 * while the operator keeps changing the bucket. Whatever the order, once every
 * event has been handled the recorded fleet is what the bucket holds.
 */

const ITERATIONS = 5;
const OPERATIONS = 20;
const INSTANCES = 4;
const SEED = 0x5eed_0010;

/** Objects under every prefix the ingest follows, a few per folder so that folders fill and empty. */
const KEYS = [
  'configs/app/collector.yaml',
  'configs/app/processors/batch.yaml',
  'configs/default/collector.yaml',
  'assignments/app.json',
  'assignments/canary.json',
  'settings/rotation.json',
  'packages/ext/1.0.0/ext.tar.gz',
  'packages/ext/1.0.0/ext.tar.gz.sig',
  'packages/ext/1.0.0/stray.bin',
  'packages/_agent/0.141.0/otelcol.tar.gz',
  'certificates/client/cert.pem',
  'certificates/client/key.pem',
  'certificates/client/ca.pem',
];

/** A body for a key: valid or not, so that rejected documents take part too. */
function body(key: string, n: number, rng: () => number): string {
  if (key.startsWith('assignments/')) {
    return rng() < 0.2 ? '{"config": ' : JSON.stringify({ config: 'app', selector: `team=t${n}`, priority: n });
  }
  if (key.startsWith('settings/')) {
    return rng() < 0.2 ? '[1, 2' : JSON.stringify({ opamp: { heartbeat: { idleSeconds: 60 + n, pendingSeconds: 5 } } });
  }
  return `${key} #${n}\n`;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The fleet as the bucket holds it, read straight from s3rver, in the shape `recorded` gives. */
async function bucketFleet(s3: ReturnType<typeof emulatorClients>['s3'], bucket: string) {
  const listed = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  const objects = new Map<string, { bytes: Uint8Array; etag: string }>();
  for (const { Key } of listed) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    objects.set(Key!, { bytes: await out.Body!.transformToByteArray(), etag: out.ETag! });
  }
  const configs: string[] = [];
  const documents: string[] = [];
  const folders = new Map<string, string[]>();
  const certificates = new Map<string, string[]>();
  for (const [key, { bytes, etag }] of [...objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const target = classifyObjectKey(key);
    if (target.kind === 'config-file') configs.push(`${key} ${sha(bytes)} ${bytes.byteLength} ${etag}`);
    if (target.kind === 'assignment' || target.kind === 'settings') documents.push(`${target.kind} ${target.name} ${etag}`);
    if (target.kind === 'package-file') {
      const prefix = packageVersionPrefix(target.folder, target.version);
      folders.set(prefix, [...(folders.get(prefix) ?? []), key]);
    }
    if (target.kind === 'certificate-file') certificates.set(target.name, [...(certificates.get(target.name) ?? []), `${target.role} ${sha(bytes)}`]);
  }
  const packages = [...folders].flatMap(([prefix, keys]) => {
    // A signature without its file is no package version; more than one file is one in error.
    const files = keys.filter((k) => !k.endsWith('.sig'));
    if (files.length === 0) return [];
    if (files.length > 1) return [`${prefix} error`];
    const file = objects.get(files[0]!)!;
    const signature = objects.get(`${files[0]}.sig`);
    return [`${files[0]} ${sha(file.bytes)} ${file.bytes.byteLength} sig=${signature ? Buffer.from(signature.bytes).toString('base64') : '-'}`];
  });
  return {
    configs,
    documents: documents.sort(),
    packages: packages.sort(),
    certificates: [...certificates].map(([name, files]) => `${name}: ${files.sort().join(', ')}`).sort(),
  };
}

/** The recorded fleet, in the same shape. */
function recorded(snapshot: FleetSnapshot) {
  const roles = ['ca', 'cert', 'key'] as const;
  return {
    configs: snapshot.configFiles.map((f) => `${f.objectKey} ${f.sha256} ${f.size} ${f.etag}`).sort(),
    documents: [...snapshot.assignments.map((a) => `assignment ${a.name} ${a.etag}`), ...snapshot.settings.map((d) => `settings ${d.name} ${d.etag}`)].sort(),
    packages: snapshot.packageVersions
      .map((p) => (p.error !== undefined ? `${packageVersionPrefix(packageFolderOfName(p.name), p.version)} error` : `${p.objectKey} ${p.sha256} ${p.size} sig=${p.signature ?? '-'}`))
      .sort(),
    certificates: snapshot.certificates.map((c) => `${c.name}: ${roles.flatMap((r) => (c[r] ? [`${r} ${c[r].sha256}`] : [])).join(', ')}`).sort(),
  };
}

async function runIteration(seed: number) {
  const rng = seededRandom(seed);
  const clients = emulatorClients();
  const bucket = uniqueName('converge');
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const fleet = new DynamoFleetStore(clients.dynamodb, await freshTable(clients.dynamodb, 'converge'));
  const objects = new S3ObjectStore(clients.s3, bucket);
  // Function instances whose clocks are up to 2 s apart.
  const instances = Array.from({ length: INSTANCES }, () => {
    const skew = Math.round((rng() - 0.5) * 4_000);
    return new BucketIngest({ objects, fleet, now: () => Date.now() + skew, telemetry: NO_TELEMETRY, maxConfigFileBytes: 64 * 1024 });
  });

  const pool: BucketEventRecord[] = [];
  const running: Promise<void>[] = [];
  // An instance handles one event; a failed invocation is retried later, as Lambda retries it.
  const handle = (event: BucketEventRecord): Promise<void> =>
    instances[Math.floor(rng() * INSTANCES)]!.handleEvent([event]).then(
      () => undefined,
      () => {
        pool.push(event);
      },
    );
  const takeRandom = () => pool.splice(Math.floor(rng() * pool.length), 1)[0]!;

  const present = new Set<string>();
  for (let n = 1; n <= OPERATIONS; n++) {
    const key = KEYS[Math.floor(rng() * KEYS.length)]!;
    const remove = present.has(key) && rng() < 0.5;
    if (remove) {
      await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      present.delete(key);
    } else {
      await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body(key, n, rng)) }));
      present.add(key);
    }
    const event: BucketEventRecord = {
      eventName: remove ? 'ObjectRemoved:Delete' : 'ObjectCreated:Put',
      // S3's sequencers grow per key; hex of varying length, as S3 sends them.
      s3: { object: { key: encodeURIComponent(key).replace(/%2F/gi, '/'), sequencer: (0x1000 * n).toString(16).toUpperCase() } },
    };
    pool.push(event);
    if (rng() < 0.3) pool.push(event);
    // Some events are handled at once, concurrently with the next changes; others wait.
    while (pool.length > 0 && rng() < 0.6) running.push(handle(takeRandom()));
  }
  // The rest arrive late, in any order, all at once.
  while (pool.length > 0 || running.length > 0) {
    while (pool.length > 0) running.push(handle(takeRandom()));
    await Promise.all(running.splice(0));
  }
  return { expected: await bucketFleet(clients.s3, bucket), actual: recorded(await fleet.load()) };
}

describe('BucketIngest under shuffled and duplicated events', () => {
  it(`records what the bucket holds after ${ITERATIONS} seeded histories under every prefix, whatever the order, duplication and clocks`, async () => {
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = SEED + i;
      const { expected, actual } = await runIteration(seed);
      expect(actual, `seed ${seed}`).toEqual(expected);
    }
  }, 120_000);
});
