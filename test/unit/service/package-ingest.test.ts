import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import { allPackagesHash, resolvePackageSet } from '../../../functions/core/packages.js';
import type { PackageStatusSummary } from '../../../functions/core/packages.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { AgentCapabilities, AgentToServerSchema, PackageStatusesSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { ObjectStore, StoredObject } from '../../../functions/ports/object-store.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { FleetAdmin, NotFoundError } from '../../../functions/service/fleet-admin.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { description, newUidBytes } from '../../support/messages.js';
import { MemoryObjectStore } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * The memory bucket, with a way to hold one digest (read, not yet returned)
 * until released: the listing and read that preceded it are then older than
 * listings made meanwhile.
 */
class HoldingObjectStore implements ObjectStore {
  private held: Promise<void> | undefined;

  constructor(readonly inner: MemoryObjectStore) {}

  /** Holds the next digestObject; returns the release. */
  holdNextDigest(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => {
      release = resolve;
    });
    return release;
  }

  async digestObject(key: string) {
    const held = this.held;
    this.held = undefined;
    const digest = await this.inner.digestObject(key);
    if (held) await held;
    return digest;
  }

  getObject(key: string, versionId?: string): Promise<StoredObject | undefined> {
    return this.inner.getObject(key, versionId);
  }

  putObject(key: string, bytes: Uint8Array, contentType?: string) {
    return this.inner.putObject(key, bytes, contentType);
  }

  deleteObject(key: string) {
    return this.inner.deleteObject(key);
  }

  /** The keys every listing returned, in order. */
  readonly listings: string[][] = [];

  async listObjects(prefix: string) {
    const listed = await this.inner.listObjects(prefix);
    this.listings.push(listed.map((o) => o.key));
    return listed;
  }
}

function setup() {
  const bucket = new MemoryObjectStore();
  const objects = new HoldingObjectStore(bucket);
  const fleet = new MemoryFleetStore();
  const clock = { now: T0 };
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1024 });
  let delivered = 0;
  /** Delivers the events since the last call, in order. */
  const deliverNew = async () => {
    const batch = bucket.eventsSince(delivered);
    delivered = bucket.events.length;
    return ingest.handleEvent(batch);
  };
  const skipNew = () => {
    delivered = bucket.events.length;
  };
  return { bucket, objects, fleet, ingest, clock, deliverNew, skipNew };
}

describe('BucketIngest: package versions', () => {
  it('records a file and its .sig: content SHA-256, size, object key and the signature as base64', async () => {
    // Prepare
    const { bucket, fleet, deliverNew } = setup();
    const content = new Uint8Array([0, 1, 2, 250, 251, 252, 10, 13]);
    const signature = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0]);
    await bucket.putObject('packages/ext/1.0.0/ext.tar.gz', content);
    await bucket.putObject('packages/ext/1.0.0/ext.tar.gz.sig', signature);

    // Act
    const outcomes = await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(snapshot.packageVersions).toEqual([
      {
        name: 'ext',
        version: '1.0.0',
        objectKey: 'packages/ext/1.0.0/ext.tar.gz',
        sha256: sha(content),
        size: content.byteLength,
        signature: Buffer.from(signature).toString('base64'),
        scannedAt: T0,
      },
    ]);
    expect(snapshot.state.packages.get('ext@1.0.0')?.signature).toBe('3q2+7wA=');
    expect(await fleet.generation()).toBe('1');
  });

  it('records a file without a .sig with no signature at all', async () => {
    // Prepare
    const { bucket, fleet, deliverNew } = setup();
    await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext 1.0.0');

    // Act
    await deliverNew();

    // Assess
    const [version] = (await fleet.load()).packageVersions;
    expect(version).toMatchObject({ name: 'ext', version: '1.0.0', sha256: sha('ext 1.0.0'), size: 9 });
    expect(version).not.toHaveProperty('signature');
  });

  it("maps the _agent folder to the package name '' (the agent itself)", async () => {
    // Prepare
    const { bucket, fleet, deliverNew } = setup();
    await bucket.put('packages/_agent/0.140.0/otelcol.tar.gz', 'collector');

    // Act
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.packageVersions.map((p) => [p.name, p.version])).toEqual([['', '0.140.0']]);
    expect(snapshot.state.packages.has('@0.140.0')).toBe(true);
  });

  it('drops the signature when the .sig is removed, and records a new one when it comes back changed', async () => {
    // Prepare
    const { bucket, fleet, clock, deliverNew } = setup();
    await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext');
    await bucket.put('packages/ext/1.0.0/ext.tar.gz.sig', 'sig-1');
    await deliverNew();

    // Act
    clock.now = T0 + 1_000;
    await bucket.deleteObject('packages/ext/1.0.0/ext.tar.gz.sig');
    await deliverNew();
    const unsigned = (await fleet.load()).packageVersions[0];
    clock.now = T0 + 2_000;
    await bucket.put('packages/ext/1.0.0/ext.tar.gz.sig', 'sig-2');
    await deliverNew();

    // Assess
    expect(unsigned?.signature).toBeUndefined();
    expect((await fleet.load()).packageVersions[0]?.signature).toBe(b64('sig-2'));
  });

  it('records an error for a version folder with two files, and the version is never offered', async () => {
    // Prepare
    const { bucket, fleet, deliverNew } = setup();
    await bucket.put('packages/ext/1.0.0/ext-linux.tar.gz', 'linux');
    await bucket.put('packages/ext/1.0.0/ext-darwin.tar.gz', 'darwin');

    // Act
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.packageVersions).toHaveLength(1);
    expect(snapshot.packageVersions[0]!.error).toMatch(/packages\/ext\/1\.0\.0\/ holds 2 files; a package version is one file/);
    expect(resolvePackageSet({ ext: '1.0.0' }, snapshot.state.packages)).toEqual({ errors: [expect.stringMatching(/^ext 1\.0\.0: .*holds 2 files/)] });
  });

  it.each<[string, string[]]>([
    ['file and signature', ['packages/ext/1.0.0/ext.tar.gz', 'packages/ext/1.0.0/ext.tar.gz.sig']],
    ['the file (a .sig alone is no package)', ['packages/ext/1.0.0/ext.tar.gz']],
  ])('removes the version once its folder is emptied of the %s', async (_name, removed) => {
    // Prepare
    const { bucket, fleet, clock, deliverNew } = setup();
    await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext');
    await bucket.put('packages/ext/1.0.0/ext.tar.gz.sig', 'sig');
    await bucket.put('packages/ext/2.0.0/ext.tar.gz', 'ext 2');
    await deliverNew();

    // Act
    clock.now = T0 + 1_000;
    for (const key of removed) await bucket.deleteObject(key);
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.packageVersions.map((p) => p.version)).toEqual(['2.0.0']);
    expect(snapshot.state.packages.has('ext@1.0.0')).toBe(false);
  });

  it.each<[string, string]>([
    ['packages/ext/1.0.0', 'rejected'],
    ['packages/ext/1.0.0/', 'ignored'],
    ['packages/bad name/1.0.0/f.tgz', 'rejected'],
    ['packages/ext/bad version/f.tgz', 'rejected'],
  ])('does not record %s (not packages/<package>/<version>/<file>): %s', async (key, outcome) => {
    // Prepare
    const { bucket, fleet, deliverNew } = setup();
    await bucket.put(key, 'x');

    // Act
    const outcomes = await deliverNew();

    // Assess
    expect(outcomes).toEqual([outcome]);
    expect((await fleet.load()).packageVersions).toEqual([]);
    expect(await fleet.generation()).toBe('0');
  });

  it('does not let a listing older than the recorded one have the last word, even from an instance whose clock runs ahead', async () => {
    // Prepare: the first ingest (on a clock 5 s ahead) lists the folder (file only) and is held before it records.
    const { bucket, objects, fleet, ingest, clock } = setup();
    await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext');
    const fileEvent = bucket.events.at(-1)!;
    const release = objects.holdNextDigest();
    clock.now = T0 + 5_000;
    const slow = ingest.handleEvent([fileEvent]);
    await new Promise((resolve) => setImmediate(resolve));

    // Meanwhile the signature arrives and a later ingest records file and signature.
    clock.now = T0;
    await bucket.put('packages/ext/1.0.0/ext.tar.gz.sig', 'sig');
    const fast = await ingest.handleEvent([bucket.events.at(-1)!]);

    // Act
    release();
    const late = await slow;

    // Assess: the held ingest finds the record moved on, lists again and records the folder as it is now.
    const both = ['packages/ext/1.0.0/ext.tar.gz', 'packages/ext/1.0.0/ext.tar.gz.sig'];
    expect(objects.listings).toEqual([['packages/ext/1.0.0/ext.tar.gz'], both, both]);
    expect(fast).toEqual(['recorded']);
    expect(late).toEqual(['recorded']);
    expect((await fleet.load()).packageVersions).toEqual([expect.objectContaining({ signature: b64('sig') })]);
  });

  it("removes a version whose file was deleted while an earlier event's ingest was still recording it", async () => {
    // Prepare: an ingest lists the folder while the file is there, and is held before it records.
    const { bucket, objects, fleet, ingest, clock } = setup();
    await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext');
    const createEvent = bucket.events.at(-1)!;
    const release = objects.holdNextDigest();
    clock.now = T0 + 5_000;
    const slow = ingest.handleEvent([createEvent]);
    await new Promise((resolve) => setImmediate(resolve));

    // Meanwhile the file is deleted, and the delete event is ingested first.
    clock.now = T0;
    await bucket.deleteObject('packages/ext/1.0.0/ext.tar.gz');
    const removal = await ingest.handleEvent([bucket.events.at(-1)!]);

    // Act
    release();
    const late = await slow;

    // Assess
    expect(removal).toEqual(['recorded']);
    expect(late).toEqual(['recorded']);
    expect((await fleet.load()).packageVersions).toEqual([]);
    expect((await fleet.load()).state.packages.size).toBe(0);
  });

  describe('reconcile', () => {
    it('records a version folder whose events were lost, and removes a version whose folder is gone', async () => {
      // Prepare
      const { bucket, fleet, ingest, clock, deliverNew, skipNew } = setup();
      await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'old');
      await deliverNew();
      bucket.silentlyDelete('packages/ext/1.0.0/ext.tar.gz');
      await bucket.put('packages/_agent/0.141.0/otelcol.tar.gz', 'new');
      await bucket.put('packages/_agent/0.141.0/otelcol.tar.gz.sig', 'sig');
      skipNew();

      // Act
      clock.now = T0 + 1_000;
      const changed = await ingest.reconcile();

      // Assess
      expect(changed).toBe(2);
      expect((await fleet.load()).packageVersions).toEqual([expect.objectContaining({ name: '', version: '0.141.0', signature: b64('sig') })]);
    });

    it('leaves recorded, unchanged folders alone', async () => {
      // Prepare
      const { bucket, fleet, ingest, clock, deliverNew } = setup();
      await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext');
      await bucket.put('packages/ext/1.0.0/ext.tar.gz.sig', 'sig');
      await deliverNew();

      // Act
      clock.now = T0 + 1_000;
      const changed = await ingest.reconcile();

      // Assess
      expect(changed).toBe(0);
      expect((await fleet.load()).packageVersions[0]?.scannedAt).toBe(T0);
    });
  });
});

const PKG_CAPS = [AgentCapabilities.AgentCapabilities_ReportsStatus, AgentCapabilities.AgentCapabilities_AcceptsPackages, AgentCapabilities.AgentCapabilities_ReportsPackageStatuses].reduce(
  (bits, c) => bits | BigInt(c),
  0n,
);

/** Ingested packages and a default assignment, as the service layer sees them. */
async function ingestedFleet() {
  const { bucket, fleet, deliverNew } = setup();
  await bucket.put('packages/_agent/0.141.0/otelcol.tar.gz', 'collector 0.141.0');
  await bucket.put('packages/_agent/0.141.0/otelcol.tar.gz.sig', 'signature');
  await bucket.put('packages/ext/1.0.0/ext.tar.gz', 'ext 1.0.0');
  await bucket.put('packages/broken/1.0.0/a.tgz', 'a');
  await bucket.put('packages/broken/1.0.0/b.tgz', 'b');
  await deliverNew();
  await fleet.putAssignment('default', { name: 'default', packages: { '': '0.141.0', ext: '1.0.0' }, priority: 0 }, {}, T0);
  await fleet.putAssignment('legacy', { name: 'legacy', packages: { '': '0.140.0' }, selector: parseSelector('service.name=legacy'), priority: 0 }, {}, T0);
  return { bucket, fleet };
}

describe('package delivery in the service layer', () => {
  it('signs a download URL per file at poll time with the configured TTL, never stored, and never part of any hash', async () => {
    // Prepare
    const { fleet } = await ingestedFleet();
    const { state } = await fleet.load();
    const agents = new MemoryAgentStore();
    const signed: Array<{ key: string; ttl: number }> = [];
    let n = 0;
    const options: CoreOptions = { ...DEFAULT_CORE_OPTIONS, packages: { ...DEFAULT_CORE_OPTIONS.packages, urlTtlSeconds: 300 } };
    const service = new PollService({
      agents,
      now: () => T0,
      newInstanceUid: () => {
        throw new Error('no uid expected');
      },
      options,
      fleet: { current: async () => state },
      urlSigner: {
        signGet: async (key, ttl) => {
          signed.push({ key, ttl });
          return `https://bucket.example/${key}?sig=${++n}`;
        },
      },
    });
    const poll = (uid: Uint8Array) =>
      service.poll(
        create(AgentToServerSchema, {
          instanceUid: uid,
          sequenceNum: 1n,
          capabilities: PKG_CAPS,
          agentDescription: description({ 'service.name': 'checkout' }),
          packageStatuses: create(PackageStatusesSchema, {}),
        }),
        `digest-${n}`,
      );
    const [uidA, uidB] = [newUidBytes(), newUidBytes()];

    // Act
    const a = await poll(uidA);
    const b = await poll(uidB);

    // Assess
    const offerA = a.reply.packagesAvailable!;
    const offerB = b.reply.packagesAvailable!;
    expect(offerA.packages['']!.file!.downloadUrl).toBe('https://bucket.example/packages/_agent/0.141.0/otelcol.tar.gz?sig=1');
    expect(offerA.packages.ext!.file!.downloadUrl).toBe('https://bucket.example/packages/ext/1.0.0/ext.tar.gz?sig=2');
    expect(offerB.packages['']!.file!.downloadUrl).toMatch(/\?sig=3$/);
    expect(signed.map((s) => s.ttl)).toEqual([300, 300, 300, 300]);
    // Different URLs, the same hashes.
    expect(offerB.allPackagesHash).toEqual(offerA.allPackagesHash);
    expect(offerB.packages['']!.hash).toEqual(offerA.packages['']!.hash);
    expect(Buffer.from(offerA.allPackagesHash).toString('base64')).toBe(allPackagesHash([state.packages.get('@0.141.0')!, state.packages.get('ext@1.0.0')!]));
    expect(Buffer.from(offerA.packages['']!.file!.signature).toString()).toBe('signature');
    expect(JSON.stringify(await agents.get(a.instanceUid), (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('bucket.example');
  });
});

describe('FleetAdmin: packages', () => {
  function admin(fleet: MemoryFleetStore, agents = new MemoryAgentStore(), bucket = new MemoryObjectStore()) {
    return new FleetAdmin({ objects: bucket, fleet, agents, now: () => T0, remoteConfig: DEFAULT_CORE_OPTIONS.remoteConfig });
  }

  it('lists package versions with the agent spelled _agent, signed or not, with their errors', async () => {
    // Prepare
    const { fleet } = await ingestedFleet();

    // Act
    const list = await admin(fleet).listPackages();

    // Assess
    expect(list).toEqual([
      { name: '_agent', version: '0.141.0', file: 'otelcol.tar.gz', size: 17, sha256: sha('collector 0.141.0'), signed: true, error: null },
      expect.objectContaining({ name: 'broken', version: '1.0.0', error: expect.stringMatching(/holds 2 files/) }),
      { name: 'ext', version: '1.0.0', file: 'ext.tar.gz', size: 9, sha256: sha('ext 1.0.0'), signed: false, error: null },
    ]);
  });

  it.each([
    ['an unknown package', 'nosuch', '1.0.0'],
    ['an unknown version of a known package', '_agent', '9.9.9'],
  ])('throws NotFoundError for the rollout of %s', async (_label, folder, version) => {
    // Prepare
    const { fleet } = await ingestedFleet();

    // Act
    const attempt = admin(fleet).packageRollout(folder, version);

    // Assess
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow(`no package ${folder} ${version}`);
  });

  it("sums up a package version's rollout over the agents whose set includes it", async () => {
    // Prepare
    const { fleet } = await ingestedFleet();
    const agents = new MemoryAgentStore();
    const status = (hasVersion: string, offeredVersion: string, s: string, error?: string): PackageStatusSummary => ({ hasVersion, offeredVersion, status: s, ...(error ? { error } : {}) });
    const agent = (i: number, service: string, packages?: Record<string, PackageStatusSummary>): AgentRecord => ({
      instanceUid: `0192f9e4-0000-7000-8000-${String(i).padStart(12, '0')}`,
      version: 1,
      sequenceNum: 1n,
      lastMessageDigest: '',
      capabilities: PKG_CAPS,
      firstSeenAt: T0,
      lastSeenAt: T0,
      attributes: { 'service.name': service },
      sections: {},
      sectionIds: {},
      expiresAt: 0,
      ...(packages ? { packages } : {}),
    });
    const records = [
      agent(1, 'checkout', { '': status('0.141.0', '0.141.0', 'Installed') }),
      agent(2, 'checkout', { '': status('0.140.0', '0.141.0', 'InstallFailed', 'checksum mismatch') }),
      agent(3, 'checkout', { '': status('0.140.0', '0.141.0', 'Downloading') }),
      agent(4, 'checkout'),
      agent(5, 'legacy', { '': status('0.140.0', '0.140.0', 'Installed') }),
      { ...agent(6, 'checkout'), capabilities: PKG_CAPS & ~BigInt(AgentCapabilities.AgentCapabilities_AcceptsPackages) },
    ];
    for (const r of records) await agents.put({ record: r, expectedVersion: 0 });

    // Act
    const view = await admin(fleet, agents).packageRollout('_agent', '0.141.0');

    // Assess
    expect(view).toMatchObject({ name: '_agent', version: '0.141.0', matched: 4, installed: 1, installing: 1, failed: 1, pending: 1, notAccepted: 1 });
    expect(view.agents).toEqual(
      expect.arrayContaining([
        { instanceUid: records[1]!.instanceUid, state: 'failed', status: 'InstallFailed', error: 'checksum mismatch' },
        { instanceUid: records[2]!.instanceUid, state: 'installing', status: 'Downloading', error: '' },
        { instanceUid: records[3]!.instanceUid, state: 'pending', status: 'not reported', error: '' },
        { instanceUid: records[5]!.instanceUid, state: 'not-accepted', status: 'not reported', error: '' },
      ]),
    );
    expect(view.agents).toHaveLength(4);
  });
});
