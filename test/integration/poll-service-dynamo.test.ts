import { toBinary } from '@bufbuild/protobuf';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { sectionBlobKey } from '../../functions/adapters/dynamodb/agent-store.js';
import { agentKey, sectionSortKey } from '../../functions/adapters/dynamodb/table-schema.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import { contentId } from '../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../functions/core/core-options.js';
import { instanceUidFromText, instanceUidToText } from '../../functions/core/instance-uid.js';
import { encodeSection, sectionHash } from '../../functions/core/sections.js';
import type { SectionKind, SectionRef } from '../../functions/core/sections.js';
import { AgentToServerFlags, AgentToServerSchema, ConnectionSettingsStatuses, RemoteConfigStatuses, ServerToAgentFlags } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentStore } from '../../functions/ports/agent-store.js';
import { StoreUnavailableError } from '../../functions/ports/errors.js';
import { PollService } from '../../functions/service/poll-service.js';
import type { PollOutcome } from '../../functions/service/poll-service.js';
import { COLLECTOR_CAPS, agentToServer, description, effectiveConfig, fullReport, health, heartbeat, keyValues, newUidBytes } from '../support/messages.js';
import { countCommands, emulatorClients, faultSwitch, newUid, provisionStores, serviceError } from './harness.js';
import type { FaultSwitch, Stores } from './harness.js';
import type { SectionWrite } from '../../functions/core/poll-types.js';

/** PollService over the real DynamoDB adapter, against dynalite and s3rver. */

const T0 = 1_760_000_000_000;
const REQUEST_INSTANCE_UID = BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid);
const REPORT_FULL_STATE = BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);

interface Harness {
  stores: Stores;
  counts: Map<string, number>;
  faults: FaultSwitch;
  clock: { now: number };
  issuedUids: string[];
  service(options?: { maxWriteAttempts?: number; options?: typeof DEFAULT_CORE_OPTIONS }): PollService;
  /** PutItem and BatchWriteItem commands sent so far. */
  writes(): number;
}

async function harness(inlineSectionLimitBytes?: number): Promise<Harness> {
  const clients = emulatorClients();
  const counts = countCommands(clients.dynamodb);
  const faults = faultSwitch(clients.dynamodb);
  const stores = await provisionStores({ clients, ...(inlineSectionLimitBytes !== undefined ? { inlineSectionLimitBytes } : {}) });
  const clock = { now: T0 };
  const issuedUids: string[] = [];
  return {
    stores,
    counts,
    faults,
    clock,
    issuedUids,
    service: (options = {}) =>
      new PollService({
        agents: stores.agents,
        now: () => clock.now,
        newInstanceUid: () => {
          const uid = newUid();
          issuedUids.push(uid);
          return uid;
        },
        options: DEFAULT_CORE_OPTIONS,
        ...options,
      }),
    writes: () => (counts.get('PutItemCommand') ?? 0) + (counts.get('BatchWriteItemCommand') ?? 0),
  };
}

function poll(service: PollService, message: AgentToServer): Promise<PollOutcome> {
  return service.poll(message, digestOf(message));
}

function digestOf(message: AgentToServer): string {
  return contentId(toBinary(AgentToServerSchema, message));
}

/** The section the record refers to for `kind` is stored (under the record's uid) with the content hash the record holds. */
async function expectSection(agents: AgentStore, record: AgentRecord, kind: SectionKind, bytes?: Uint8Array): Promise<void> {
  const uid = record.instanceUid;
  const hash = record.sections[kind];
  const id = record.sectionIds[kind];
  expect(hash, `${kind} hash on the record of ${uid}`).toBeDefined();
  expect(id, `${kind} id on the record of ${uid}`).toBeDefined();
  const stored = await agents.getSection(uid, { kind, id: id! });
  expect(stored?.hash, `${kind} of ${uid}`).toBe(hash);
  if (bytes) expect(Buffer.from(stored!.bytes).equals(Buffer.from(bytes)), `${kind} bytes`).toBe(true);
}

/** Sort keys of every section item stored for the agent, read straight from the table. */
async function sectionItemKeys(stores: Stores, uid: string): Promise<string[]> {
  const keys: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await stores.clients.dynamodb.send(
      new QueryCommand({
        TableName: stores.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: agentKey(uid) }, ':prefix': { S: 'section#' } },
        ProjectionExpression: 'sk',
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    keys.push(...(out.Items ?? []).map((item) => item.sk?.S ?? ''));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return keys.sort();
}

/** The section items a record may leave in the table: those it refers to and those it lists as superseded. */
function accountedSectionKeys(record: AgentRecord): string[] {
  return [
    ...(Object.entries(record.sectionIds) as Array<[SectionKind, string]>).map(([kind, id]) => sectionSortKey(kind, id)),
    ...(record.supersededSections ?? []).map((ref) => sectionSortKey(ref.kind, ref.id)),
  ].sort();
}

/** expectSection for every section the record refers to. */
async function expectRecordSections(agents: AgentStore, record: AgentRecord): Promise<void> {
  expect(Object.keys(record.sectionIds).sort()).toEqual(Object.keys(record.sections).sort());
  for (const kind of Object.keys(record.sections) as SectionKind[]) await expectSection(agents, record, kind);
}

describe('PollService over DynamoAgentStore: writes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('stores a full report, then answers heartbeats that change nothing without writing', async () => {
    // Prepare
    const service = h.service();
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    const report = fullReport(uidBytes, 1n);

    // Act 1: the first message, a full report.
    const before = h.writes();
    const putsBefore = h.counts.get('PutItemCommand') ?? 0;
    const first = await poll(service, report);
    const reportWrites = h.writes() - before;

    // Assess 1: one record write and one batch of sections, no full-state request.
    expect(first.events).toContain('new-agent');
    expect(first.reply.flags & REPORT_FULL_STATE).toBe(0n);
    expect(h.counts.get('PutItemCommand')! - putsBefore).toBe(1);
    expect(reportWrites).toBe(2);
    const stored = await h.stores.agents.get(uid);
    expect(stored).toMatchObject({ version: 1, sequenceNum: 1n, capabilities: report.capabilities, healthy: true, lastMessageDigest: digestOf(report) });
    for (const kind of ['description', 'health', 'effectiveConfig'] as const) {
      const content = kind === 'description' ? report.agentDescription! : kind === 'health' ? report.health! : report.effectiveConfig!;
      const hash = sectionHash(kind, content as never);
      expect(stored?.sections[kind]).toBe(hash);
      await expectSection(h.stores.agents, stored!, kind, encodeSection(kind, content as never, hash).bytes);
    }

    // Act 2: heartbeats every 30 s, within the last-seen refresh window.
    const writesBeforeHeartbeats = h.writes();
    const getsBefore = h.counts.get('GetItemCommand') ?? 0;
    for (let seq = 2n; seq <= 6n; seq++) {
      h.clock.now += 30_000;
      const outcome = await poll(service, heartbeat(uidBytes, seq));
      expect(outcome.reply.flags & REPORT_FULL_STATE).toBe(0n);
      expect(outcome.conflicts).toBe(0);
    }

    // Assess 2: every heartbeat read the record, none wrote anything.
    expect(h.counts.get('GetItemCommand')! - getsBefore).toBe(5);
    expect(h.writes() - writesBeforeHeartbeats).toBe(0);
    expect(await h.stores.agents.get(uid)).toStrictEqual(stored);
  });

  it('writes the record alone when a heartbeat falls due for a last-seen refresh, or when it changes something', async () => {
    // Prepare
    const service = h.service();
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    await poll(service, fullReport(uidBytes, 1n));
    const firstSeen = h.clock.now;

    // Act 1: a heartbeat after the refresh window.
    h.clock.now += DEFAULT_CORE_OPTIONS.lastSeenRefreshMs;
    const puts = h.counts.get('PutItemCommand')!;
    const batches = h.counts.get('BatchWriteItemCommand') ?? 0;
    await poll(service, heartbeat(uidBytes, 2n));

    // Assess 1: a record write only; last seen moved.
    expect(h.counts.get('PutItemCommand')! - puts).toBe(1);
    expect((h.counts.get('BatchWriteItemCommand') ?? 0) - batches).toBe(0);
    expect(await h.stores.agents.get(uid)).toMatchObject({ version: 2, sequenceNum: 2n, lastSeenAt: firstSeen + DEFAULT_CORE_OPTIONS.lastSeenRefreshMs });

    // Act 2: the next message reports a new health.
    h.clock.now += 15_000;
    const unhealthy = health(false, { 'pipeline:traces': false }, 'exporter failed');
    const before = h.writes();
    await poll(service, agentToServer({ instanceUid: uidBytes, sequenceNum: 3n, capabilities: COLLECTOR_CAPS, health: unhealthy }));

    // Assess 2: the section and the record were written.
    expect(h.writes() - before).toBe(2);
    const record = await h.stores.agents.get(uid);
    expect(record).toMatchObject({ version: 3, sequenceNum: 3n, healthy: false, sections: { health: sectionHash('health', unhealthy) } });
    await expectSection(h.stores.agents, record!, 'health');
  });

  it('answers a retried message as a duplicate without writing', async () => {
    // Prepare
    const service = h.service();
    const uidBytes = newUidBytes();
    const report = fullReport(uidBytes, 1n);
    await poll(service, report);
    h.clock.now += 1_000;

    // Act
    const before = h.writes();
    const retry = await poll(service, report);

    // Assess
    expect(retry.events).toEqual(['duplicate']);
    expect(h.writes() - before).toBe(0);
  });
});

describe('PollService over DynamoAgentStore: concurrent polls for one agent', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  /** Eight messages that each change a different part of the agent's state. */
  function changes(uidBytes: Uint8Array, caps: bigint) {
    const unhealthy = health(false, { 'pipeline:traces': false }, 'exporter failed');
    const config = effectiveConfig({ '': 'receivers: {otlp: {}}\n' });
    const desc = description({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.140.0' }, { 'os.type': 'linux', 'host.name': 'host-1', 'deployment.environment': 'prod' });
    const inits = [
      { health: unhealthy },
      { customCapabilities: { capabilities: ['io.example.custom-a', 'io.example.custom-b'] } },
      { remoteConfigStatus: { lastRemoteConfigHash: new Uint8Array([1, 2, 3]), status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED } },
      {
        connectionSettingsStatus: {
          lastConnectionSettingsHash: new Uint8Array([4, 5]),
          status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED,
          errorMessage: 'tls handshake failed',
        },
      },
      { effectiveConfig: config },
      { agentDescription: desc },
      { packageStatuses: { serverProvidedAllPackagesHash: new Uint8Array([9, 9]), errorMessage: '' } },
      {
        availableComponents: {
          hash: new Uint8Array([7, 7, 7]),
          components: { receivers: { metadata: keyValues({ otlp: 'v1' }) } },
        },
      },
    ];
    const messages = inits.map((init, i) => agentToServer({ instanceUid: uidBytes, sequenceNum: BigInt(i + 2), capabilities: caps, ...init }));
    return { messages, unhealthy, config, desc };
  }

  it('loses no update when eight changes for one agent arrive at once', async () => {
    // Prepare: three agents, each with a stored full report (version 1).
    const agents = [newUidBytes(), newUidBytes(), newUidBytes()];
    const reports = agents.map((uidBytes) => fullReport(uidBytes, 1n));
    const service0 = h.service();
    for (const report of reports) await poll(service0, report);
    const batches = agents.map((uidBytes, i) => changes(uidBytes, reports[i]!.capabilities));
    // Each poll loses at most one write to each other poll, so this many attempts always suffice.
    // One agent's messages racing out of order look like two agents sharing its uid (counters
    // interleave); this test is about lost updates, so duplicate-uid detection is off.
    const service = h.service({ maxWriteAttempts: batches[0]!.messages.length, options: { ...DEFAULT_CORE_OPTIONS, duplicateWindowMs: 0 } });

    // Act: all messages of all agents in parallel.
    const outcomes = await Promise.all(batches.flatMap((b) => b.messages.map((m) => poll(service, m))));

    // Assess
    expect(outcomes.reduce((sum, o) => sum + o.conflicts, 0)).toBeGreaterThan(0); // the race did happen
    for (const [i, uidBytes] of agents.entries()) {
      const uid = instanceUidToText(uidBytes);
      const { messages, unhealthy, config, desc } = batches[i]!;
      const record = (await h.stores.agents.get(uid))!;

      // Every message wrote exactly once, on top of the one before it.
      expect(record.version).toBe(1 + messages.length);
      // The stored sequence number and digest belong to one and the same message (the last one written).
      const last = messages.find((m) => m.sequenceNum === record.sequenceNum);
      expect(last, `stored sequence ${record.sequenceNum}`).toBeDefined();
      expect(record.lastMessageDigest).toBe(digestOf(last!));

      // Every change survived.
      expect(record.healthy).toBe(false);
      expect(record.customCapabilities).toEqual(['io.example.custom-a', 'io.example.custom-b']);
      expect(record.remoteConfigStatus).toEqual({ hash: Buffer.from([1, 2, 3]).toString('base64'), status: 1, errorMessage: '' });
      expect(record.connectionSettingsStatus).toEqual({ hash: Buffer.from([4, 5]).toString('base64'), status: 3, errorMessage: 'tls handshake failed' });
      expect(record.attributes['deployment.environment']).toBe('prod');
      expect(record.serverProvidedAllPackagesHash).toBe(Buffer.from([9, 9]).toString('base64'));
      expect(record.availableComponentsHash).toBe(Buffer.from([7, 7, 7]).toString('base64url'));
      const packages = messages[6]!.packageStatuses!;
      expect(record.sections).toEqual({
        description: sectionHash('description', desc),
        health: sectionHash('health', unhealthy),
        effectiveConfig: sectionHash('effectiveConfig', config),
        packageStatuses: sectionHash('packageStatuses', packages),
        availableComponents: Buffer.from([7, 7, 7]).toString('base64url'),
      });
      await expectRecordSections(h.stores.agents, record);
      // Sections written by attempts that lost the race were cleaned up by their next attempt.
      expect(await sectionItemKeys(h.stores, uid)).toEqual(accountedSectionKeys(record));
    }
  });

  it('leaves no section item the committed record neither refers to nor lists as superseded after a conflicting concurrent poll', async () => {
    // Prepare: an agent with a stored full report (version 1).
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    const report = fullReport(uidBytes, 1n);
    await poll(h.service(), report);
    const base = (await h.stores.agents.get(uid))!;
    const unhealthy = health(false, { 'pipeline:traces': false }, 'exporter failed');
    const config = effectiveConfig({ 'collector.yaml': 'receivers: {otlp: {}}\nexporters: {debug: {}}\n' });
    const healthChange = agentToServer({ instanceUid: uidBytes, sequenceNum: 2n, capabilities: report.capabilities, health: unhealthy });
    const configChange = agentToServer({ instanceUid: uidBytes, sequenceNum: 3n, capabilities: report.capabilities, effectiveConfig: config });

    // Both polls read version 1. The health poll writes its section, then (before its record write)
    // the config poll runs to completion, so the health poll's record write conflicts and it decides again.
    const other = h.service();
    let otherPoll: Promise<PollOutcome> | undefined;
    const firstAttemptSections: SectionWrite[] = [];
    const racingStore: AgentStore = Object.assign(Object.create(h.stores.agents) as AgentStore, {
      writeSections: async (...args: Parameters<AgentStore['writeSections']>) => {
        if (!otherPoll) firstAttemptSections.push(...args[0]);
        return h.stores.agents.writeSections(...args);
      },
      put: async (...args: Parameters<AgentStore['put']>) => {
        if (!otherPoll) {
          otherPoll = poll(other, configChange);
          await otherPoll;
        }
        return h.stores.agents.put(...args);
      },
    });
    const racing = new PollService({ agents: racingStore, now: () => h.clock.now, newInstanceUid: newUid, options: DEFAULT_CORE_OPTIONS });
    h.clock.now += 15_000;

    // Act
    const outcome = await poll(racing, healthChange);

    // Assess: the race happened as arranged: the health poll wrote a section item, lost once and decided again.
    expect(otherPoll).toBeDefined();
    expect((await otherPoll!).conflicts).toBe(0);
    expect(outcome.conflicts).toBe(1);
    expect(firstAttemptSections.map((w) => w.content.kind)).toEqual(['health']);
    // Both changes are on the committed record, and every section it refers to can be read.
    const record = (await h.stores.agents.get(uid))!;
    expect(record.version).toBe(3);
    expect(record.sections).toMatchObject({ health: sectionHash('health', unhealthy), effectiveConfig: sectionHash('effectiveConfig', config) });
    expect(record.sectionIds.health).not.toBe(firstAttemptSections[0]!.id);
    await expectRecordSections(h.stores.agents, record);
    // The losing attempt's health item is gone, and nothing else is left over: every section item
    // is one the record refers to or one it lists as superseded (to be deleted by the next section write).
    const lost: SectionRef = { kind: 'health', id: firstAttemptSections[0]!.id };
    expect(await h.stores.agents.getSection(uid, lost)).toBeUndefined();
    expect(await sectionItemKeys(h.stores, uid)).toEqual(accountedSectionKeys(record));
    // The retry deleted the config the other poll superseded, and lists the health it replaced itself.
    expect(record.supersededSections).toEqual([{ kind: 'health', id: base.sectionIds.health }]);
    expect(await h.stores.agents.getSection(uid, { kind: 'effectiveConfig', id: base.sectionIds.effectiveConfig! })).toBeUndefined();
  });
});

describe('PollService over DynamoAgentStore: RequestInstanceUid', () => {
  let h: Harness;
  beforeAll(async () => {
    // A small inline limit, so that some sections live in S3 and must move with the agent too.
    h = await harness(256);
  });

  it('moves a new agent to the uid it assigns and keeps a redirect under the temporary uid', async () => {
    // Prepare
    const service = h.service();
    const tempBytes = newUidBytes();
    const tempUid = instanceUidToText(tempBytes);
    const message = fullReport(tempBytes, 1n, { flags: REQUEST_INSTANCE_UID });
    const descriptionHash = sectionHash('description', message.agentDescription!);

    // Act
    const outcome = await poll(service, message);

    // Assess
    expect(h.issuedUids).toHaveLength(1);
    const newUidText = h.issuedUids[0]!;
    expect(outcome.events).toContain('instance-uid-assigned');
    expect(outcome.reply.agentIdentification?.newInstanceUid).toEqual(instanceUidFromText(newUidText));
    const moved = await h.stores.agents.get(newUidText);
    expect(moved).toMatchObject({ instanceUid: newUidText, version: 1, sequenceNum: 1n, healthy: true });
    expect(moved?.sections.description).toBe(descriptionHash);
    expect(moved?.movedTo).toBeUndefined();
    expect(moved?.sections.effectiveConfig).toBe(sectionHash('effectiveConfig', message.effectiveConfig!));
    await expectRecordSections(h.stores.agents, moved!);
    const redirect = await h.stores.agents.get(tempUid);
    expect(redirect?.movedTo).toBe(newUidText);
  });

  it('answers a retried RequestInstanceUid with the same uid, without writing', async () => {
    // Prepare
    const service = h.service();
    const tempBytes = newUidBytes();
    const message = fullReport(tempBytes, 1n, { flags: REQUEST_INSTANCE_UID });
    const first = await poll(service, message);
    const issued = h.issuedUids.length;

    // Act
    h.clock.now += 2_000;
    const before = h.writes();
    const retry = await poll(service, message);

    // Assess
    expect(h.issuedUids).toHaveLength(issued);
    expect(retry.reply.agentIdentification?.newInstanceUid).toEqual(first.reply.agentIdentification?.newInstanceUid);
    expect(h.writes() - before).toBe(0);
  });

  it('carries the sections stored under the temporary uid, S3-backed ones included, to the new uid', async () => {
    // Prepare: the agent reported in full under its temporary uid first.
    const service = h.service();
    const tempBytes = newUidBytes();
    const tempUid = instanceUidToText(tempBytes);
    const bigConfig = effectiveConfig({ 'collector.yaml': `receivers:\n${'  # padding\n'.repeat(200)}` });
    await poll(service, fullReport(tempBytes, 1n, { effectiveConfig: bigConfig }));
    const before = (await h.stores.agents.get(tempUid))!;
    const configKey = sectionBlobKey('effectiveConfig', before.sections.effectiveConfig!);
    expect(await h.stores.blobs.get(configKey)).toBeDefined(); // this one lives in S3
    h.clock.now += 15_000;

    // Act: a heartbeat asking for a new uid.
    const outcome = await poll(service, agentToServer({ instanceUid: tempBytes, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, flags: REQUEST_INSTANCE_UID }));

    // Assess
    const newUidText = instanceUidToText(outcome.reply.agentIdentification!.newInstanceUid);
    const moved = (await h.stores.agents.get(newUidText))!;
    expect(moved.sections).toEqual(before.sections);
    expect(moved.sectionIds).toEqual(before.sectionIds); // copies keep their item ids
    expect(Object.keys(moved.sections).sort()).toEqual(['description', 'effectiveConfig', 'health']);
    for (const kind of Object.keys(before.sections) as SectionKind[]) {
      const original = await h.stores.agents.getSection(tempUid, { kind, id: before.sectionIds[kind]! });
      await expectSection(h.stores.agents, moved, kind, original!.bytes);
    }
    expect((await h.stores.agents.get(tempUid))?.movedTo).toBe(newUidText);

    // Act 2: the agent continues under its new uid.
    h.clock.now += 15_000;
    const next = await poll(service, heartbeat(outcome.reply.agentIdentification!.newInstanceUid, 3n));

    // Assess 2: the server knows it; no new agent, no full-state request.
    expect(next.events).not.toContain('new-agent');
    expect(next.reply.flags & REPORT_FULL_STATE).toBe(0n);
  });

  it('completes a uid move whose section copy failed when the agent retries the message', async () => {
    // Prepare: an agent that reported in full under its temporary uid.
    const service = h.service();
    const tempBytes = newUidBytes();
    const tempUid = instanceUidToText(tempBytes);
    await poll(service, fullReport(tempBytes, 1n));
    const { sections, sectionIds } = (await h.stores.agents.get(tempUid))!;
    h.clock.now += 15_000;
    const request = agentToServer({ instanceUid: tempBytes, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, flags: REQUEST_INSTANCE_UID });

    // Act: the store throttles the section copy (the only batch write of this poll); the agent gets a 503 and retries.
    h.faults.failNext('BatchWriteItemCommand', () => serviceError('ProvisionedThroughputExceededException', 400));
    const failed = await poll(service, request).then(
      () => undefined,
      (e: unknown) => e,
    );
    h.clock.now += 1_000;
    const retried = await poll(service, request);

    // Assess: the retry succeeded, and every section the new record refers to exists under the new uid.
    expect(h.faults.fired).toHaveLength(1);
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    const newUidText = instanceUidToText(retried.reply.agentIdentification!.newInstanceUid);
    const moved = (await h.stores.agents.get(newUidText))!;
    expect(moved.sections).toEqual(sections);
    expect(moved.sectionIds).toEqual(sectionIds);
    await expectRecordSections(h.stores.agents, moved);
  });

  it('leaves the redirect out of listings', async () => {
    // Prepare
    const service = h.service();
    const tempBytes = newUidBytes();
    const tempUid = instanceUidToText(tempBytes);
    const outcome = await poll(service, fullReport(tempBytes, 1n, { flags: REQUEST_INSTANCE_UID }));
    const newUidText = instanceUidToText(outcome.reply.agentIdentification!.newInstanceUid);

    // Act
    const listed = [];
    let cursor: string | undefined;
    do {
      const page = await h.stores.agents.list({ limit: 50, cursor });
      listed.push(...page.records.map((r) => r.instanceUid));
      cursor = page.cursor;
    } while (cursor);

    // Assess
    expect(listed).toContain(newUidText);
    expect(listed).not.toContain(tempUid);
  });
});
