import { toBinary } from '@bufbuild/protobuf';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAgentStore, sectionBlobKey } from '../../functions/adapters/dynamodb/agent-store.js';
import { agentKey, sectionSortKey } from '../../functions/adapters/dynamodb/table-schema.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import { contentId } from '../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../functions/core/core-options.js';
import type { SectionWrite } from '../../functions/core/poll-types.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import type { RemoteConfigOffer } from '../../functions/core/remote-config.js';
import { encodeSection, sectionHash, sectionId } from '../../functions/core/sections.js';
import type { SectionKind, SectionRef } from '../../functions/core/sections.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentStore } from '../../functions/ports/agent-store.js';
import { InvalidCursorError, WriteConflictError } from '../../functions/ports/errors.js';
import { PollService } from '../../functions/service/poll-service.js';
import { COLLECTOR_CAPS, agentToServer, description, effectiveConfig, fullReport, health, newUidBytes } from '../support/messages.js';
import { bytesOfLength, minimalRecord, newUid, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

let stores: Stores;

beforeAll(async () => {
  stores = await provisionStores();
});

/** A write of `bytes` as a poll stamped `stamp` would make it: under the id `<content hash>~<stamp>`. */
function section(instanceUid: string, kind: SectionKind, bytes: Uint8Array, stamp = 'v1'): SectionWrite {
  const hash = contentId(bytes);
  return { instanceUid, id: sectionId(hash, stamp), content: { kind, hash, bytes } };
}

/** Where a section write is stored. */
function refOf(write: SectionWrite): SectionRef {
  return { kind: write.content.kind, id: write.id };
}

/** The sort key a section write is stored under. */
function skOf(write: SectionWrite): string {
  return sectionSortKey(write.content.kind, write.id);
}

async function rawSectionItem(s: Stores, instanceUid: string, kind: SectionKind, id: string) {
  const out = await s.clients.dynamodb.send(
    new GetItemCommand({
      TableName: s.tableName,
      Key: { pk: { S: agentKey(instanceUid) }, sk: { S: sectionSortKey(kind, id) } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

/** Sort keys of the agent's items whose sort key starts with `prefix`, read straight from the table. */
async function itemSortKeys(s: Stores, instanceUid: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await s.clients.dynamodb.send(
      new QueryCommand({
        TableName: s.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: agentKey(instanceUid) }, ':prefix': { S: prefix } },
        ProjectionExpression: 'sk',
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    keys.push(...(out.Items ?? []).map((item) => item.sk?.S ?? ''));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return keys;
}

function sectionItems(s: Stores, instanceUid: string): Promise<string[]> {
  return itemSortKeys(s, instanceUid, 'section#');
}

function healthItems(instanceUid: string): Promise<string[]> {
  return itemSortKeys(stores, instanceUid, 'section#health#');
}

async function objectExists(s: Stores, key: string): Promise<boolean> {
  try {
    await s.clients.s3.send(new HeadObjectCommand({ Bucket: s.stateBucketName, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

describe('DynamoAgentStore record round trip', () => {
  it('keeps every AgentRecord field, including 64-bit counters beyond 2^53', async () => {
    // Prepare: a record with every optional field set, and values that a lossy codec would break.
    const uid = newUid();
    const record: AgentRecord = {
      instanceUid: uid,
      version: 7,
      sequenceNum: 18_446_744_073_709_551_615n, // 2^64 - 1
      lastMessageDigest: 'q0d2-X_abcdefghijklmn',
      capabilities: (1n << 62n) | 0x1fffn,
      firstSeenAt: 1_700_000_000_123,
      lastSeenAt: 1_700_000_900_456,
      disconnectedAt: 1_700_000_900_000,
      fullStateRequestedAt: 1_700_000_500_789,
      fullStateRequestedSeq: 9_007_199_254_740_993n, // 2^53 + 1: not representable as a double
      pollCadenceMs: 1_500,
      cadenceCandidateMs: 2_004,
      noisyEventLoggedAt: 1_700_000_600_111,
      attributes: { 'service.name': 'checkout', 'host.name': 'host-1', 'deployment.environment': 'prod' },
      healthy: false,
      sections: {
        description: 'ZGVzY3JpcHRpb24',
        health: 'aGVhbHRo',
        effectiveConfig: 'Y29uZmln',
        packageStatuses: 'cGFja2FnZXM',
        availableComponents: 'Y29tcG9uZW50cw',
      },
      sectionIds: {
        description: 'ZGVzY3JpcHRpb24~v7',
        health: 'aGVhbHRo~Ab-c_dEf',
        effectiveConfig: 'Y29uZmln~v3',
        packageStatuses: 'cGFja2FnZXM~v2',
        availableComponents: 'Y29tcG9uZW50cw~x_-9',
      },
      availableComponentsHash: 'AAECAwQF-_8',
      remoteConfigStatus: { hash: 'AQIDBA==', status: 3, errorMessage: 'exporter otlp: bad endpoint' },
      connectionSettingsStatus: { hash: 'BQYH', status: 1, errorMessage: '' },
      serverProvidedAllPackagesHash: 'CAkK',
      customCapabilities: ['io.opentelemetry.custom.a', 'com.example.b'],
      customCapabilitiesTruncated: { kept: 2, total: 90_000, omitted: ['c.2', 'c.3'] },
      attributesTruncated: { kept: 3, total: 100_003, omitted: ['attr.0'] },
      supersededSections: [
        { kind: 'health', id: 'b2xkLWhlYWx0aA~v6' },
        { kind: 'effectiveConfig', id: 'b2xkLWNvbmZpZw~Zz-_09' },
      ],
      configOffer: {
        hash: 'q83vASNFZ4k=',
        name: 'gateway',
        offeredAt: 1_700_000_800_000,
        offeredSeq: 9_007_199_254_740_995n,
        attempts: 2,
        acknowledged: true,
        rolledBackAt: 1_700_000_850_000,
        rolledBackTo: 'AQIDBA==',
        rollbackMessage: 'the agent went back',
      },
      movedTo: newUid(),
      expiresAt: 1_702_592_000,
    };

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(uid);

    // Assess
    expect(read).toStrictEqual(record);
    expect(typeof read?.sequenceNum).toBe('bigint');
    expect(read?.capabilities).toBe((1n << 62n) | 0x1fffn);
  });

  it('round-trips supersededSections and a configOffer, bigint offeredSeq included', async () => {
    // Prepare: superseded sections of several kinds (item ids use '-', '_' and '~'), and an offer with every field.
    const uid = newUid();
    const offer: RemoteConfigOffer = {
      hash: 'q83vASNFZ4mrze8BI0VniQ==',
      name: 'collector-gateway',
      offeredAt: 1_760_000_123_456,
      offeredSeq: 18_446_744_073_709_551_615n, // 2^64 - 1
      attempts: 3,
      acknowledged: true,
      rolledBackAt: 1_760_000_456_789,
      rolledBackTo: 'AAECAw==',
      rollbackMessage: 'the agent took the configuration, then reported APPLIED with another one',
    };
    const record = minimalRecord(uid, {
      sections: { health: 'bmV3LWhlYWx0aA', description: 'ZGVzYw' },
      sectionIds: { health: 'bmV3LWhlYWx0aA~q-R_s', description: 'ZGVzYw~v1' },
      supersededSections: [
        { kind: 'health', id: 'b2xk-aGVh_bHRo~v4' },
        { kind: 'availableComponents', id: 'AAECAwQF-_8~-_-_' },
        { kind: 'packageStatuses', id: sectionId(contentId('packages'), 'a1B2c3D4') },
      ],
      configOffer: offer,
    });

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(uid);

    // Assess
    expect(read).toStrictEqual(record);
    expect(typeof read?.configOffer?.offeredSeq).toBe('bigint');
    expect(read?.configOffer?.offeredSeq).toBe(18_446_744_073_709_551_615n);
  });

  it('round-trips a configOffer that was neither acknowledged nor rolled back, without rollback fields', async () => {
    // Prepare
    const offer: RemoteConfigOffer = { hash: 'AQID', name: 'default', offeredAt: 1_760_000_000_001, offeredSeq: 9_007_199_254_740_993n, attempts: 1, acknowledged: false };
    const record = minimalRecord(newUid(), { configOffer: offer });

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(record.instanceUid);

    // Assess
    expect(read).toStrictEqual(record);
    expect(Object.keys(read!.configOffer!).sort()).toEqual(Object.keys(offer).sort());
    expect(read?.supersededSections).toBeUndefined();
  });

  it('leaves optional fields absent when they were absent', async () => {
    // Prepare
    const record = minimalRecord(newUid());

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(record.instanceUid);

    // Assess: no key with an undefined or empty placeholder value.
    expect(read).toStrictEqual(record);
    expect(Object.keys(read!).sort()).toEqual(Object.keys(record).sort());
  });

  it('drops optional fields that a later version no longer has', async () => {
    // Prepare: a disconnected agent with health and a redirect-free record.
    const uid = newUid();
    const first = minimalRecord(uid, {
      disconnectedAt: 1_700_000_000_500,
      healthy: true,
      customCapabilities: ['x.y'],
      fullStateRequestedAt: 1_700_000_000_400,
      fullStateRequestedSeq: 4n,
      supersededSections: [{ kind: 'health', id: 'b2xk~v1' }],
      configOffer: { hash: 'AQID', name: 'default', offeredAt: 1_700_000_000_300, offeredSeq: 1n, attempts: 1, acknowledged: false },
    });
    await stores.agents.put({ record: first, expectedVersion: 0 });

    // Act: the next version reconnected and lost those fields.
    const second = minimalRecord(uid, { version: 2, sequenceNum: 2n, lastMessageDigest: 'digest-2' });
    await stores.agents.put({ record: second, expectedVersion: 1 });
    const read = await stores.agents.get(uid);

    // Assess
    expect(read).toStrictEqual(second);
  });

  it('keeps falsy values that are not absence: healthy false, an empty custom capability list, zero status', async () => {
    // Prepare
    const record = minimalRecord(newUid(), {
      healthy: false,
      customCapabilities: [],
      remoteConfigStatus: { hash: '', status: 0, errorMessage: '' },
    });

    // Act
    await stores.agents.put({ record, expectedVersion: 0 });
    const read = await stores.agents.get(record.instanceUid);

    // Assess
    expect(read).toStrictEqual(record);
  });

  it('returns undefined for an agent it never stored', async () => {
    // Act / Assess
    await expect(stores.agents.get(newUid())).resolves.toBeUndefined();
  });
});

describe('DynamoAgentStore conditional writes', () => {
  it('creates a record once; a second create with expectedVersion 0 conflicts and keeps the first', async () => {
    // Prepare
    const uid = newUid();
    const first = minimalRecord(uid, { lastMessageDigest: 'first' });
    const second = minimalRecord(uid, { lastMessageDigest: 'second' });

    // Act
    await stores.agents.put({ record: first, expectedVersion: 0 });
    const conflict = await stores.agents.put({ record: second, expectedVersion: 0 }).catch((e: unknown) => e);

    // Assess
    expect(conflict).toBeInstanceOf(WriteConflictError);
    expect(conflict).toMatchObject({ key: uid, expectedVersion: 0 });
    expect(await stores.agents.get(uid)).toStrictEqual(first);
  });

  it('updates when the expected version is the stored one', async () => {
    // Prepare
    const uid = newUid();
    await stores.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });
    const next = minimalRecord(uid, { version: 2, sequenceNum: 2n, healthy: true });

    // Act
    await stores.agents.put({ record: next, expectedVersion: 1 });

    // Assess
    expect(await stores.agents.get(uid)).toStrictEqual(next);
  });

  it('refuses an update from a stale version and one for a record that does not exist', async () => {
    // Prepare: version 2 stored.
    const uid = newUid();
    await stores.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });
    const v2 = minimalRecord(uid, { version: 2, sequenceNum: 2n });
    await stores.agents.put({ record: v2, expectedVersion: 1 });
    const missing = newUid();

    // Act
    const stale = stores.agents.put({ record: minimalRecord(uid, { version: 2, sequenceNum: 9n }), expectedVersion: 1 });
    const ahead = stores.agents.put({ record: minimalRecord(uid, { version: 6, sequenceNum: 9n }), expectedVersion: 5 });
    const absent = stores.agents.put({ record: minimalRecord(missing, { version: 4 }), expectedVersion: 3 });

    // Assess
    await expect(stale).rejects.toBeInstanceOf(WriteConflictError);
    await expect(ahead).rejects.toBeInstanceOf(WriteConflictError);
    await expect(absent).rejects.toBeInstanceOf(WriteConflictError);
    expect(await stores.agents.get(uid)).toStrictEqual(v2);
    expect(await stores.agents.get(missing)).toBeUndefined();
  });

  it('lets exactly one of two writers that read the same version win, round after round', async () => {
    // Prepare
    const uid = newUid();
    await stores.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });

    for (let round = 0; round < 5; round++) {
      const read = (await stores.agents.get(uid))!;
      const n = read.version;
      const writers = ['a', 'b'].map((who) => ({
        record: { ...read, version: n + 1, lastMessageDigest: `${who}-${round}`, sequenceNum: read.sequenceNum + 1n },
        expectedVersion: n,
      }));

      // Act: both write version N+1 at the same time.
      const results = await Promise.allSettled(writers.map((w) => stores.agents.put(w)));

      // Assess
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [writers[i]!] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(WriteConflictError);
      expect(lost[0]).toMatchObject({ key: uid, expectedVersion: n });
      expect(await stores.agents.get(uid)).toStrictEqual(won[0]!.record);
    }
  });

  it('lets exactly one of many concurrent writers of the same version win', async () => {
    // Prepare
    const uid = newUid();
    await stores.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });
    const writers = Array.from({ length: 8 }, (_, i) => ({
      record: minimalRecord(uid, { version: 2, lastMessageDigest: `writer-${i}` }),
      expectedVersion: 1,
    }));

    // Act
    const results = await Promise.allSettled(writers.map((w) => stores.agents.put(w)));

    // Assess
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [writers[i]!] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WriteConflictError);
    expect(await stores.agents.get(uid)).toStrictEqual(winners[0]!.record);
  });
});

describe('DynamoAgentStore sections', () => {
  it('reads back the bytes and hash that were stored, per agent, kind and item id', async () => {
    // Prepare
    const a = newUid();
    const b = newUid();
    const writes = [section(a, 'description', bytesOfLength(200, 1)), section(a, 'health', bytesOfLength(50, 2)), section(b, 'health', bytesOfLength(70, 3))];

    // Act
    await stores.agents.writeSections(writes);

    // Assess
    for (const write of writes) {
      const got = await stores.agents.getSection(write.instanceUid, refOf(write));
      expect(got?.kind).toBe(write.content.kind);
      expect(got?.hash).toBe(write.content.hash);
      expect(new Uint8Array(got!.bytes)).toEqual(write.content.bytes);
    }
    const [aDescription, aHealth, bHealth] = writes;
    // Another agent's item id, another kind's item id, an unknown agent, the same content under another stamp: nothing.
    expect(await stores.agents.getSection(b, refOf(aDescription!))).toBeUndefined();
    expect(await stores.agents.getSection(b, refOf(aHealth!))).toBeUndefined();
    expect(await stores.agents.getSection(a, { kind: 'description', id: aHealth!.id })).toBeUndefined();
    expect(await stores.agents.getSection(newUid(), refOf(bHealth!))).toBeUndefined();
    expect(await stores.agents.getSection(a, { kind: 'health', id: sectionId(aHealth!.content.hash, 'v2') })).toBeUndefined();
  });

  it('stores the item under section#<kind>#<content hash>~<stamp> with its kind and hash', async () => {
    // Prepare
    const uid = newUid();
    const write = section(uid, 'packageStatuses', bytesOfLength(40, 8), 'Xy-_z9');

    // Act
    await stores.agents.writeSections([write]);

    // Assess
    expect(write.id).toBe(`${write.content.hash}~Xy-_z9`);
    const item = await rawSectionItem(stores, uid, 'packageStatuses', write.id);
    expect(item?.sk?.S).toBe(`section#packageStatuses#${write.content.hash}~Xy-_z9`);
    expect(item?.kind?.S).toBe('packageStatuses');
    expect(item?.hash?.S).toBe(write.content.hash);
  });

  it('keeps the stored section when a new content of the same kind is written, until it is deleted', async () => {
    // Prepare
    const uid = newUid();
    const original = section(uid, 'effectiveConfig', bytesOfLength(100, 1), 'v1');
    await stores.agents.writeSections([original]);
    const replacement = section(uid, 'effectiveConfig', bytesOfLength(120, 9), 'v2');

    // Act 1: the new content is written beside the old one.
    await stores.agents.writeSections([replacement]);

    // Assess 1: both read back under their own id (a record still pointing at the old one stays valid).
    const old = await stores.agents.getSection(uid, refOf(original));
    expect(new Uint8Array(old!.bytes)).toEqual(original.content.bytes);
    const got = await stores.agents.getSection(uid, refOf(replacement));
    expect(got?.hash).toBe(replacement.content.hash);
    expect(new Uint8Array(got!.bytes)).toEqual(replacement.content.bytes);

    // Act 2: the old content is deleted once nothing refers to it.
    await stores.agents.writeSections([], [{ instanceUid: uid, ...refOf(original) }]);

    // Assess 2: only the replacement is left.
    expect(await stores.agents.getSection(uid, refOf(original))).toBeUndefined();
    expect((await stores.agents.getSection(uid, refOf(replacement)))?.hash).toBe(replacement.content.hash);
    expect(await sectionItems(stores, uid)).toEqual([skOf(replacement)]);
  });

  it('keeps the same content written by two polls as two items: deleting one leaves the other', async () => {
    // Prepare: one content, written by two polls with their own stamps.
    const uid = newUid();
    const bytes = bytesOfLength(80, 4);
    const first = section(uid, 'health', bytes, 'poll-a');
    const second = section(uid, 'health', bytes, 'poll-b');
    expect(first.content.hash).toBe(second.content.hash);
    expect(first.id).not.toBe(second.id);
    await stores.agents.writeSections([first]);

    // Act: the second poll writes its copy and deletes the first one's, in one call.
    await stores.agents.writeSections([second], [{ instanceUid: uid, ...refOf(first) }]);

    // Assess
    expect(await sectionItems(stores, uid)).toEqual([skOf(second)]);
    expect(await stores.agents.getSection(uid, refOf(first))).toBeUndefined();
    const got = await stores.agents.getSection(uid, refOf(second));
    expect(got?.hash).toBe(second.content.hash);
    expect(new Uint8Array(got!.bytes)).toEqual(bytes);
  });

  it('writeSections with deletes removes exactly the named items and writes the puts in the same call', async () => {
    // Prepare: two agents with several sections each, two contents of one kind for agent a,
    // and one content of a's written twice (by two polls).
    const a = newUid();
    const b = newUid();
    const aHealthOld = section(a, 'health', bytesOfLength(30, 1));
    const aHealthNew = section(a, 'health', bytesOfLength(30, 2), 'v2');
    const aDescription = section(a, 'description', bytesOfLength(30, 3));
    const aDescriptionAgain = section(a, 'description', bytesOfLength(30, 3), 'v2'); // same content, another poll
    const aConfig = section(a, 'effectiveConfig', bytesOfLength(30, 4));
    const bHealthOld = section(b, 'health', bytesOfLength(30, 1)); // same item id as aHealthOld, other agent
    const bDescription = section(b, 'description', bytesOfLength(30, 5));
    await stores.agents.writeSections([aHealthOld, aHealthNew, aDescription, aDescriptionAgain, aConfig, bHealthOld, bDescription]);
    const aConfigNext = section(a, 'effectiveConfig', bytesOfLength(30, 6), 'v3');

    // Act: delete a's old health, a's config and a's first description, put a's next config.
    await stores.agents.writeSections(
      [aConfigNext],
      [
        { instanceUid: a, ...refOf(aHealthOld) },
        { instanceUid: a, ...refOf(aConfig) },
        { instanceUid: a, ...refOf(aDescription) },
      ],
    );

    // Assess: the named items are gone, everything else (b's item with the same id, and a's
    // other item of the same description content, included) is there.
    expect((await sectionItems(stores, a)).sort()).toEqual([skOf(aDescriptionAgain), skOf(aConfigNext), skOf(aHealthNew)].sort());
    expect((await sectionItems(stores, b)).sort()).toEqual([skOf(bDescription), skOf(bHealthOld)].sort());
    expect(await stores.agents.getSection(a, refOf(aHealthOld))).toBeUndefined();
    expect((await stores.agents.getSection(b, refOf(bHealthOld)))?.hash).toBe(bHealthOld.content.hash);
    expect((await stores.agents.getSection(a, refOf(aDescriptionAgain)))?.hash).toBe(aDescription.content.hash);
  });

  it('writeSections with deletes only, or of items that do not exist, succeeds', async () => {
    // Prepare
    const uid = newUid();
    const kept = section(uid, 'health', bytesOfLength(30, 1));
    await stores.agents.writeSections([kept]);

    // Act
    await stores.agents.writeSections([], [{ instanceUid: uid, kind: 'health', id: 'never-stored~v1' }]);
    await stores.agents.writeSections([], []);

    // Assess
    expect(await sectionItems(stores, uid)).toEqual([skOf(kept)]);
  });

  it('accepts more sections and deletes than one batch write holds', async () => {
    // Prepare: 12 agents x 3 kinds = 36 items, more than BatchWriteItem's 25.
    const uids = Array.from({ length: 12 }, newUid);
    const kinds: SectionKind[] = ['description', 'health', 'effectiveConfig'];
    const writes = uids.flatMap((uid, i) => kinds.map((kind, k) => section(uid, kind, bytesOfLength(64, i * 3 + k))));

    // Act 1
    await stores.agents.writeSections(writes);

    // Assess 1
    for (const write of writes) {
      expect((await stores.agents.getSection(write.instanceUid, refOf(write)))?.hash).toBe(write.content.hash);
    }

    // Act 2: 36 new contents and 36 deletes of the old ones in one call.
    const next = uids.flatMap((uid, i) => kinds.map((kind, k) => section(uid, kind, bytesOfLength(64, 100 + i * 3 + k), 'v2')));
    await stores.agents.writeSections(
      next,
      writes.map((w) => ({ instanceUid: w.instanceUid, ...refOf(w) })),
    );

    // Assess 2
    for (const [i, uid] of uids.entries()) {
      expect((await sectionItems(stores, uid)).sort()).toEqual(
        next
          .slice(i * 3, i * 3 + 3)
          .map(skOf)
          .sort(),
      );
    }
  });

  describe('with a small inline limit', () => {
    let small: Stores;
    beforeAll(async () => {
      small = await provisionStores({ inlineSectionLimitBytes: 1024 });
    });

    it('stores a section above the limit in S3 under agent-state/<kind>/<hash>.binpb and reads it back', async () => {
      // Prepare
      const uid = newUid();
      const big = section(uid, 'health', bytesOfLength(5_000, 4));
      const key = `agent-state/health/${big.content.hash}.binpb`;

      // Act
      await small.agents.writeSections([big]);

      // Assess: the object is in the bucket, the item only points at it, and the section reads back identical.
      expect(sectionBlobKey('health', big.content.hash)).toBe(key);
      expect(await objectExists(small, key)).toBe(true);
      expect(new Uint8Array((await small.blobs.get(key))!)).toEqual(big.content.bytes);
      const item = await rawSectionItem(small, uid, 'health', big.id);
      expect(item?.body).toBeUndefined();
      expect(item?.blobKey?.S).toBe(key);
      const got = await small.agents.getSection(uid, refOf(big));
      expect(got?.hash).toBe(big.content.hash);
      expect(new Uint8Array(got!.bytes)).toEqual(big.content.bytes);
    });

    it('keeps a section of exactly the limit inline', async () => {
      // Prepare
      const uid = newUid();
      const edge = section(uid, 'description', bytesOfLength(1024, 5));

      // Act
      await small.agents.writeSections([edge]);

      // Assess
      const item = await rawSectionItem(small, uid, 'description', edge.id);
      expect(item?.blobKey).toBeUndefined();
      expect(new Uint8Array(item!.body!.B!)).toEqual(edge.content.bytes);
      expect(await objectExists(small, sectionBlobKey('description', edge.content.hash))).toBe(false);
      expect(new Uint8Array((await small.agents.getSection(uid, refOf(edge)))!.bytes)).toEqual(edge.content.bytes);
    });

    it('reads the inline section after a large one of the same kind was superseded by a small one', async () => {
      // Prepare
      const uid = newUid();
      const large = section(uid, 'effectiveConfig', bytesOfLength(4_000, 6));
      await small.agents.writeSections([large]);
      const smaller = section(uid, 'effectiveConfig', bytesOfLength(300, 7), 'v2');

      // Act: the small one is written and the large one deleted, as the next poll does.
      await small.agents.writeSections([smaller], [{ instanceUid: uid, ...refOf(large) }]);

      // Assess
      const got = await small.agents.getSection(uid, refOf(smaller));
      expect(got?.hash).toBe(smaller.content.hash);
      expect(new Uint8Array(got!.bytes)).toEqual(smaller.content.bytes);
      expect(await small.agents.getSection(uid, refOf(large))).toBeUndefined();
    });

    it('still reads an S3-backed section after another item of the same content was deleted', async () => {
      // Prepare: two polls wrote the same large content; both items point at the one object for that content.
      const uid = newUid();
      const bytes = bytesOfLength(3_000, 8);
      const first = section(uid, 'effectiveConfig', bytes, 'poll-a');
      const second = section(uid, 'effectiveConfig', bytes, 'poll-b');
      await small.agents.writeSections([first]);
      await small.agents.writeSections([second]);
      const key = sectionBlobKey('effectiveConfig', first.content.hash);
      expect((await rawSectionItem(small, uid, 'effectiveConfig', first.id))?.blobKey?.S).toBe(key);
      expect((await rawSectionItem(small, uid, 'effectiveConfig', second.id))?.blobKey?.S).toBe(key);

      // Act
      await small.agents.writeSections([], [{ instanceUid: uid, ...refOf(first) }]);

      // Assess
      expect(await sectionItems(small, uid)).toEqual([skOf(second)]);
      expect(new Uint8Array((await small.agents.getSection(uid, refOf(second)))!.bytes)).toEqual(bytes);
    });
  });

  it('with the default limit, puts a real effective config above 350 KB in S3 and keeps a 300 KB one inline', async () => {
    // Prepare: two Collector effective configs, encoded as the core encodes them.
    const uid = newUid();
    const other = newUid();
    const bigConfig = effectiveConfig({ 'collector.yaml': `receivers:\n${'  # padding\n'.repeat(31_000)}` });
    const big = encodeSection('effectiveConfig', bigConfig, sectionHash('effectiveConfig', bigConfig));
    const mediumConfig = effectiveConfig({ 'collector.yaml': `receivers:\n${'  # padding\n'.repeat(25_000)}` });
    const medium = encodeSection('effectiveConfig', mediumConfig, sectionHash('effectiveConfig', mediumConfig));
    expect(big.bytes.length).toBeGreaterThan(350 * 1024);
    expect(medium.bytes.length).toBeLessThan(350 * 1024);
    const bigId = sectionId(big.hash, 'v1');
    const mediumId = sectionId(medium.hash, 'v1');

    // Act
    await stores.agents.writeSections([
      { instanceUid: uid, id: bigId, content: big },
      { instanceUid: other, id: mediumId, content: medium },
    ]);

    // Assess
    expect(await objectExists(stores, `agent-state/effectiveConfig/${big.hash}.binpb`)).toBe(true);
    expect(await objectExists(stores, `agent-state/effectiveConfig/${medium.hash}.binpb`)).toBe(false);
    const gotBig = await stores.agents.getSection(uid, { kind: 'effectiveConfig', id: bigId });
    expect(gotBig?.hash).toBe(big.hash);
    expect(Buffer.from(gotBig!.bytes).equals(Buffer.from(big.bytes))).toBe(true);
    const gotMedium = await stores.agents.getSection(other, { kind: 'effectiveConfig', id: mediumId });
    expect(Buffer.from(gotMedium!.bytes).equals(Buffer.from(medium.bytes))).toBe(true);
  });

  it('copySections copies only the named sections, inline and S3-backed alike, and leaves the source intact', async () => {
    // Prepare: a source agent with three sections, one of them in S3 (store with a small limit),
    // and an older health content beside the current one.
    const s = await provisionStores({ inlineSectionLimitBytes: 1024 });
    const from = newUid();
    const to = newUid();
    const description = section(from, 'description', bytesOfLength(300, 1));
    const health = section(from, 'health', bytesOfLength(200, 2), 'v2');
    const oldHealth = section(from, 'health', bytesOfLength(200, 12));
    const config = section(from, 'effectiveConfig', bytesOfLength(8_000, 3));
    await s.agents.writeSections([description, health, oldHealth, config]);

    // Act: packageStatuses is named but the source has none; health is named with an id the source lacks
    // (the current health's content under another stamp).
    await s.agents.copySections(from, to, [refOf(description), refOf(config), { kind: 'packageStatuses', id: 'not-stored~v1' }, { kind: 'health', id: sectionId(health.content.hash, 'v9') }]);

    // Assess: the copies keep their ids.
    for (const copied of [description, config]) {
      const got = await s.agents.getSection(to, refOf(copied));
      expect(got?.hash).toBe(copied.content.hash);
      expect(new Uint8Array(got!.bytes)).toEqual(copied.content.bytes);
    }
    expect((await sectionItems(s, to)).sort()).toEqual([skOf(description), skOf(config)].sort());
    expect(await s.agents.get(to)).toBeUndefined();
    for (const kept of [description, health, oldHealth, config]) {
      expect((await s.agents.getSection(from, refOf(kept)))?.hash).toBe(kept.content.hash);
    }
  });

  it('copySections copies every named section even when together they exceed one 1 MB query page', async () => {
    // Prepare: all five kinds inline at 300 KB each (below the 350 KB default limit), 1.5 MB in all.
    const from = newUid();
    const to = newUid();
    const kinds: SectionKind[] = ['description', 'health', 'effectiveConfig', 'packageStatuses', 'availableComponents'];
    const writes = kinds.map((kind, i) => section(from, kind, bytesOfLength(300 * 1024, i)));
    await stores.agents.writeSections(writes);

    // Act
    await stores.agents.copySections(from, to, writes.map(refOf));

    // Assess
    const copied: Partial<Record<SectionKind, string | undefined>> = {};
    for (const write of writes) copied[write.content.kind] = (await stores.agents.getSection(to, refOf(write)))?.hash;
    expect(copied).toEqual(Object.fromEntries(writes.map((w) => [w.content.kind, w.content.hash])));
  });
});

describe('DynamoAgentStore superseded sections, through PollService', () => {
  const T0 = 1_760_000_000_000;

  function pollService(agents: AgentStore, clock: { now: number }): PollService {
    return new PollService({ agents, now: () => clock.now, newInstanceUid: newUid, options: DEFAULT_CORE_OPTIONS });
  }

  function poll(service: PollService, message: AgentToServer) {
    return service.poll(message, contentId(toBinary(AgentToServerSchema, message)));
  }

  /** Every section the record refers to reads back with the content hash the record holds for it. */
  async function expectReferencedSectionsReadable(uid: string, record: AgentRecord): Promise<void> {
    expect(Object.keys(record.sectionIds).sort()).toEqual(Object.keys(record.sections).sort());
    for (const [kind, hash] of Object.entries(record.sections) as Array<[SectionKind, string]>) {
      const id = record.sectionIds[kind]!;
      expect(id.startsWith(`${hash}~`), `${kind} id ${id}`).toBe(true);
      expect((await stores.agents.getSection(uid, { kind, id }))?.hash, `${kind} the record refers to`).toBe(hash);
    }
  }

  it('leaves exactly one health section item after the health changed three times', async () => {
    // Prepare: an agent that reported in full (health 0), then three health changes.
    const clock = { now: T0 };
    const service = pollService(stores.agents, clock);
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    const healths = [
      health(true, { 'pipeline:traces': true }),
      health(false, { 'pipeline:traces': false }, 'exporter failed'),
      health(true, { 'pipeline:traces': true, 'pipeline:metrics': true }),
      health(false, { 'pipeline:metrics': false }, 'receiver down'),
    ];
    const hashes = healths.map((h) => sectionHash('health', h));
    expect(new Set(hashes).size).toBe(4);

    // Act 1: the full report, then three polls that each change the health.
    await poll(service, fullReport(uidBytes, 1n, { health: healths[0]! }));
    const afterReport = (await stores.agents.get(uid))!;
    const healthIds = [afterReport.sectionIds.health!];
    for (let i = 1; i < healths.length; i++) {
      clock.now += 15_000;
      await poll(service, agentToServer({ instanceUid: uidBytes, sequenceNum: BigInt(i + 1), capabilities: COLLECTOR_CAPS, health: healths[i]! }));
      healthIds.push((await stores.agents.get(uid))!.sectionIds.health!);
    }

    // Assess 1: each health write got its own item id (its content hash and the poll's stamp);
    // every older content but the last superseded one is gone; that one is still listed on the
    // committed record, to be deleted by the next poll that writes sections.
    for (const [i, id] of healthIds.entries()) expect(id.startsWith(`${hashes[i]}~`), `health id ${i}`).toBe(true);
    expect(new Set(healthIds).size).toBe(4);
    const record = (await stores.agents.get(uid))!;
    expect(record.sections.health).toBe(hashes[3]);
    expect(record.sectionIds.health).toBe(healthIds[3]);
    expect(record.supersededSections).toEqual([{ kind: 'health', id: healthIds[2] }]);
    expect((await healthItems(uid)).sort()).toEqual([sectionSortKey('health', healthIds[2]!), sectionSortKey('health', healthIds[3]!)].sort());

    // Act 2: a heartbeat (writes no section), then a poll that writes another kind of section.
    clock.now += 15_000;
    await poll(service, agentToServer({ instanceUid: uidBytes, sequenceNum: 5n, capabilities: COLLECTOR_CAPS }));
    clock.now += 15_000;
    const newConfig = effectiveConfig({ '': 'receivers: {otlp: {}}\n' });
    await poll(service, agentToServer({ instanceUid: uidBytes, sequenceNum: 6n, capabilities: COLLECTOR_CAPS, effectiveConfig: newConfig }));

    // Assess 2: exactly one health item is left, the one the record refers to, and it reads back.
    expect(await healthItems(uid)).toEqual([sectionSortKey('health', healthIds[3]!)]);
    const final = (await stores.agents.get(uid))!;
    expect(final.sections.health).toBe(hashes[3]);
    expect(final.sectionIds.health).toBe(healthIds[3]);
    expect((await stores.agents.getSection(uid, { kind: 'health', id: healthIds[3]! }))?.hash).toBe(hashes[3]);
    // The config it replaced (the full report's) is the one now waiting for deletion.
    const reportedConfig = afterReport.sectionIds.effectiveConfig!;
    expect(reportedConfig.startsWith(`${sectionHash('effectiveConfig', fullReport(uidBytes, 1n).effectiveConfig!)}~`)).toBe(true);
    expect(final.supersededSections).toEqual([{ kind: 'effectiveConfig', id: reportedConfig }]);
    await expectReferencedSectionsReadable(uid, final);
  });

  it('keeps a section a concurrent poll re-referenced while a losing poll deleted it as superseded', async () => {
    // Prepare: health went A -> B, so the committed record lists A as superseded.
    const clock = { now: T0 };
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    const healthA = health(true, { 'pipeline:traces': true });
    const healthB = health(false, { 'pipeline:traces': false }, 'exporter failed');
    const setup = pollService(stores.agents, clock);
    await poll(setup, fullReport(uidBytes, 1n, { health: healthA }));
    const firstHealthA = (await stores.agents.get(uid))!.sectionIds.health!;
    clock.now += 15_000;
    await poll(setup, agentToServer({ instanceUid: uidBytes, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, health: healthB }));
    expect((await stores.agents.get(uid))?.supersededSections).toEqual([{ kind: 'health', id: firstHealthA }]);

    // Two polls read that record at the same time: `winner` reports health A again, `loser` a new
    // description. The loser's section write (which deletes A) lands after the winner's poll committed.
    const winner = pollService(stores.agents, clock);
    let winnerPoll: Promise<unknown> | undefined;
    let loserFirstDeletes: Array<SectionRef & { instanceUid: string }> = [];
    const loserStore: AgentStore = Object.assign(Object.create(stores.agents) as AgentStore, {
      writeSections: async (...args: Parameters<AgentStore['writeSections']>) => {
        if (!winnerPoll) {
          loserFirstDeletes = [...(args[1] ?? [])];
          winnerPoll = poll(winner, agentToServer({ instanceUid: uidBytes, sequenceNum: 3n, capabilities: COLLECTOR_CAPS, health: healthA }));
          await winnerPoll;
        }
        return stores.agents.writeSections(...args);
      },
    });
    const loser = pollService(loserStore, clock);
    clock.now += 15_000;

    // Act
    const outcome = await poll(
      loser,
      agentToServer({
        instanceUid: uidBytes,
        sequenceNum: 4n,
        capabilities: COLLECTOR_CAPS,
        agentDescription: description({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.141.0' }),
      }),
    );

    // Assess: the race happened as arranged (the loser deleted health A as superseded, lost once and
    // decided again on the winner's record); the committed record refers to health A, stored by the
    // winner under its own id, and every section it refers to can be read.
    expect(winnerPoll).toBeDefined();
    expect(loserFirstDeletes).toContainEqual({ instanceUid: uid, kind: 'health', id: firstHealthA });
    expect(outcome.conflicts).toBe(1);
    const record = (await stores.agents.get(uid))!;
    expect(record.version).toBe(4);
    expect(record.sections.health).toBe(sectionHash('health', healthA));
    expect(record.sectionIds.health).not.toBe(firstHealthA);
    await expectReferencedSectionsReadable(uid, record);
    // Nothing is left behind but what the record refers to or lists as superseded
    // (the loser's first-attempt description included).
    const expected = [
      ...(Object.entries(record.sectionIds) as Array<[SectionKind, string]>).map(([kind, id]) => sectionSortKey(kind, id)),
      ...(record.supersededSections ?? []).map((ref) => sectionSortKey(ref.kind, ref.id)),
    ];
    expect((await sectionItems(stores, uid)).sort()).toEqual(expected.sort());
  });
});

describe('DynamoAgentStore list', () => {
  let s: Stores;
  const visible: AgentRecord[] = [];
  const redirects: AgentRecord[] = [];

  beforeAll(async () => {
    // 34 agents and 4 redirects, with 3 section items per agent so that the
    // table holds more items than one scan request evaluates.
    s = await provisionStores();
    for (let i = 0; i < 34; i++) {
      visible.push(
        minimalRecord(newUid(), {
          sequenceNum: BigInt(i + 1),
          attributes: { env: i % 3 === 0 ? 'prod' : 'dev', index: String(i) },
          ...(i % 4 === 0 ? { healthy: false } : {}),
        }),
      );
    }
    for (let i = 0; i < 4; i++) redirects.push(minimalRecord(newUid(), { movedTo: visible[i]!.instanceUid, attributes: { env: 'prod' } }));
    await Promise.all([...visible, ...redirects].map((record) => s.agents.put({ record, expectedVersion: 0 })));
    await s.agents.writeSections(visible.flatMap((r, i) => (['description', 'health', 'effectiveConfig'] as const).map((kind) => section(r.instanceUid, kind, bytesOfLength(32, i)))));
  });

  async function listAll(query: { limit: number; where?: (r: AgentRecord) => boolean }) {
    const pages: { records: AgentRecord[]; cursor?: string | undefined }[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.agents.list({ ...query, cursor });
      pages.push(page);
      expect(page.records.length).toBeLessThanOrEqual(query.limit);
      cursor = page.cursor;
      if (pages.length > 100) throw new Error('pagination does not end');
    } while (cursor);
    return pages;
  }

  it.each([1, 4, 11, 17, 34, 50])('returns every agent exactly once across pages of %i, and the last page has no cursor', async (limit) => {
    // Act
    const pages = await listAll({ limit });

    // Assess
    const uids = pages.flatMap((p) => p.records.map((r) => r.instanceUid));
    expect(uids).toHaveLength(visible.length);
    expect([...uids].sort()).toEqual(visible.map((r) => r.instanceUid).sort());
    expect(pages.at(-1)!.cursor).toBeUndefined();
    for (const page of pages.slice(0, -1)) expect(page.cursor).toEqual(expect.any(String));
  });

  it('returns the records as stored and skips uid redirects', async () => {
    // Act
    const pages = await listAll({ limit: 10 });

    // Assess
    const byUid = new Map(pages.flatMap((p) => p.records).map((r) => [r.instanceUid, r]));
    for (const record of visible) expect(byUid.get(record.instanceUid)).toStrictEqual(record);
    for (const redirect of redirects) expect(byUid.has(redirect.instanceUid)).toBe(false);
  });

  it('filters with a where predicate, across pages', async () => {
    // Prepare
    const prod = visible
      .filter((r) => r.attributes.env === 'prod')
      .map((r) => r.instanceUid)
      .sort();

    // Act
    const pages = await listAll({ limit: 3, where: (r) => r.attributes.env === 'prod' });

    // Assess
    const uids = pages.flatMap((p) => p.records.map((r) => r.instanceUid));
    expect(uids).toHaveLength(prod.length);
    expect([...uids].sort()).toEqual(prod);
    expect(pages.at(-1)!.cursor).toBeUndefined();
  });

  it('returns an empty last page when nothing matches', async () => {
    // Act
    const pages = await listAll({ limit: 5, where: () => false });

    // Assess
    expect(pages.flatMap((p) => p.records)).toEqual([]);
    expect(pages.at(-1)!.cursor).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', '%%%not-a-cursor%%%'],
    ['JSON without a key', Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64url')],
    ['a key with non-string parts', Buffer.from(JSON.stringify({ pk: 1, sk: 2 })).toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('rejects a cursor it did not hand out (%s) with InvalidCursorError', async (_name, cursor) => {
    // Act / Assess
    await expect(s.agents.list({ limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('rejects a well-formed cursor whose key is empty with InvalidCursorError rather than a DynamoDB error', async () => {
    // Prepare: the cursor's shape, but a key DynamoDB refuses as ExclusiveStartKey.
    const cursor = Buffer.from(JSON.stringify({ pk: '', sk: '' })).toString('base64url');

    // Act / Assess
    await expect(s.agents.list({ limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe('DynamoAgentStore ping', () => {
  it('resolves for an existing table', async () => {
    // Act / Assess
    await expect(stores.agents.ping()).resolves.toBeUndefined();
  });

  it('rejects for a table that does not exist', async () => {
    // Prepare
    const missing = new DynamoAgentStore({ client: stores.clients.dynamodb, tableName: 'missing-table-xyz', blobs: stores.blobs });

    // Act / Assess
    await expect(missing.ping()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
