import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { OUTBOX_LIMITS } from '../../../functions/core/agent-commands.js';
import type { QueuedMessage } from '../../../functions/core/agent-commands.js';
import type { RecordWrite } from '../../../functions/core/poll-types.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { AgentCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { StoreUnavailableError, WriteConflictError } from '../../../functions/ports/errors.js';
import { ActionRefusedError, AgentActions } from '../../../functions/service/agent-actions.js';
import { NotFoundError } from '../../../functions/service/fleet-admin.js';

const T0 = Date.UTC(2026, 0, 1);
const TTL = 15 * 60_000;
const RESTART = BigInt(AgentCapabilities.AgentCapabilities_AcceptsRestartCommand);
const STATUS = BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus);
const UID = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';

function record(instanceUid: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    instanceUid,
    version: 1,
    sequenceNum: 5n,
    lastMessageDigest: 'd',
    capabilities: STATUS | RESTART,
    firstSeenAt: T0 - 60_000,
    lastSeenAt: T0 - 60_000,
    attributes: { 'service.name': 'checkout' },
    sections: {},
    sectionIds: {},
    expiresAt: 0,
    ...overrides,
  };
}

async function setup(...records: AgentRecord[]) {
  const agents = new MemoryAgentStore();
  for (const r of records) await agents.put({ record: r, expectedVersion: 0 });
  const clock = { now: T0 };
  const actions = new AgentActions({ agents, now: () => clock.now, ttlMs: TTL });
  return { agents, actions, clock };
}

const uid = (i: number) => `0192f9e4-0000-7000-8000-${String(i).padStart(12, '0')}`;
const bytes = (n: number) => new Uint8Array(n).fill(7);

describe('AgentActions.queueRestart', () => {
  it('queues a restart that expires after the TTL, in a write conditional on the version read', async () => {
    // Prepare
    const { agents, actions } = await setup(record(UID));

    // Act
    const view = await actions.queueRestart(UID);

    // Assess
    const stored = await agents.get(UID);
    expect(stored?.pendingCommand).toEqual({ type: 'restart', id: view.id, queuedAt: T0, expiresAt: T0 + TTL });
    expect(stored?.version).toBe(2);
    expect(view.expiresAt).toBe(new Date(T0 + TTL).toISOString());
  });

  it.each<[string, AgentRecord[], new (...args: never[]) => Error, RegExp]>([
    ['an agent without AcceptsRestartCommand', [record(UID, { capabilities: STATUS })], ActionRefusedError, /does not accept restart commands.*AcceptsRestartCommand/],
    ['an unknown uid', [], NotFoundError, /no agent with instance uid/],
    ['a uid that only redirects to another', [record(UID, { movedTo: uid(9) })], NotFoundError, /no agent with instance uid/],
  ])('refuses %s and changes nothing', async (_name, records, errorType, message) => {
    // Prepare
    const { agents, actions } = await setup(...records);
    const before = await agents.get(UID);

    // Act
    const error = await actions.queueRestart(UID).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(errorType);
    expect((error as Error).message).toMatch(message);
    expect(await agents.get(UID)).toEqual(before);
  });
});

describe('AgentActions.queueRestarts', () => {
  it('queues for every matching agent that accepts restarts and lists the others as skipped', async () => {
    // Prepare
    const { agents, actions } = await setup(record(uid(1)), record(uid(2), { capabilities: STATUS }), record(uid(3)), record(uid(4), { attributes: { 'service.name': 'cart' } }));

    // Act
    const result = await actions.queueRestarts(parseSelector('service.name=checkout'));

    // Assess
    expect(result.queued.map((q) => q.instanceUid).sort()).toEqual([uid(1), uid(3)]);
    expect(result.skipped).toEqual([{ instanceUid: uid(2), reason: 'does not accept restart commands' }]);
    expect((await agents.get(uid(1)))?.pendingCommand?.id).toBe(result.queued.find((q) => q.instanceUid === uid(1))?.id);
    expect((await agents.get(uid(2)))?.pendingCommand).toBeUndefined();
    expect((await agents.get(uid(4)))?.pendingCommand).toBeUndefined();
  });

  it('reaches every matching agent over more than one page of the listing', async () => {
    // Prepare: the service lists 500 agents a page.
    const records = Array.from({ length: 503 }, (_, i) => record(uid(i)));
    const { agents, actions } = await setup(...records);

    // Act
    const result = await actions.queueRestarts(parseSelector('service.name=checkout'));

    // Assess
    expect(new Set(result.queued.map((q) => q.instanceUid)).size).toBe(503);
    expect((await agents.get(uid(502)))?.pendingCommand).toBeDefined();
  });
});

describe('AgentActions.queueMessage', () => {
  const advertised = (overrides: Partial<AgentRecord> = {}) => record(UID, { customCapabilities: ['io.example.pause'], ...overrides });
  const queuedMessage = (id: string, expiresAt: number): QueuedMessage => ({ id, capability: 'io.example.pause', type: 't', data: '', queuedAt: T0 - TTL, expiresAt });

  it('queues a message for an advertised capability, base64, with its expiry', async () => {
    // Prepare
    const { agents, actions } = await setup(advertised());

    // Act
    const view = await actions.queueMessage(UID, { capability: 'io.example.pause', type: 'pause', data: new TextEncoder().encode('for 5m') });

    // Assess
    expect((await agents.get(UID))?.outbox).toEqual([
      {
        id: view.id,
        capability: 'io.example.pause',
        type: 'pause',
        data: Buffer.from('for 5m').toString('base64'),
        queuedAt: T0,
        expiresAt: T0 + TTL,
      },
    ]);
    expect(view.expiresAt).toBe(new Date(T0 + TTL).toISOString());
  });

  it.each<[string, AgentRecord, { capability: string; data: Uint8Array }, RegExp]>([
    ['a capability the agent did not advertise', advertised(), { capability: 'io.example.other', data: bytes(1) }, /has not advertised the custom capability io\.example\.other/],
    ['an agent that advertised nothing', record(UID), { capability: 'io.example.pause', data: bytes(1) }, /has not advertised/],
    ['data over the size limit', advertised(), { capability: 'io.example.pause', data: bytes(OUTBOX_LIMITS.maxDataBytes + 1) }, /at most 8192 can be queued/],
    [
      'a full queue',
      advertised({ outbox: Array.from({ length: OUTBOX_LIMITS.maxMessages }, (_, i) => queuedMessage(`m${i}`, T0 + 1)) }),
      { capability: 'io.example.pause', data: bytes(1) },
      /already has 5 messages waiting/,
    ],
  ])('refuses %s and changes nothing', async (_name, stored, message, pattern) => {
    // Prepare
    const { agents, actions } = await setup(stored);

    // Act
    const error = await actions.queueMessage(UID, { type: 't', ...message }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ActionRefusedError);
    expect((error as Error).message).toMatch(pattern);
    expect(await agents.get(UID)).toEqual(stored);
  });

  it('queues for a capability missing from a list the record keeps only in part', async () => {
    // Prepare: the agent announced more capabilities than the record holds.
    const { agents, actions } = await setup(advertised({ customCapabilitiesTruncated: { kept: 1, total: 90_000, omitted: ['io.example.other'] } }));

    // Act
    await actions.queueMessage(UID, { capability: 'io.example.late', type: 't', data: bytes(1) });

    // Assess
    expect((await agents.get(UID))?.outbox?.map((m) => m.capability)).toEqual(['io.example.late']);
  });

  it('accepts data exactly at the size limit', async () => {
    // Prepare
    const { agents, actions } = await setup(advertised());

    // Act
    await actions.queueMessage(UID, { capability: 'io.example.pause', type: 't', data: bytes(OUTBOX_LIMITS.maxDataBytes) });

    // Assess
    expect(Buffer.from((await agents.get(UID))!.outbox![0]!.data, 'base64')).toHaveLength(OUTBOX_LIMITS.maxDataBytes);
  });

  it('does not count expired messages toward the limit, and drops them', async () => {
    // Prepare
    const expired = Array.from({ length: OUTBOX_LIMITS.maxMessages }, (_, i) => queuedMessage(`old${i}`, T0));
    const { agents, actions } = await setup(advertised({ outbox: expired }));

    // Act
    const view = await actions.queueMessage(UID, { capability: 'io.example.pause', type: 't', data: bytes(1) });

    // Assess
    expect((await agents.get(UID))?.outbox?.map((m) => m.id)).toEqual([view.id]);
  });

  it('refuses an unknown uid with NotFoundError', async () => {
    // Prepare
    const { actions } = await setup();

    // Act / Assess
    await expect(actions.queueMessage(UID, { capability: 'io.example.pause', type: 't', data: bytes(1) })).rejects.toBeInstanceOf(NotFoundError);
  });
});

/** A store where a poll writes the record between the action's read and its write, `times` times. */
class RacingStore extends MemoryAgentStore {
  races = 0;
  constructor(private times: number) {
    super();
  }

  override async put(write: RecordWrite): Promise<void> {
    if (this.times > 0 && write.expectedVersion > 0) {
      this.times--;
      this.races++;
      const current = (await this.get(write.record.instanceUid))!;
      // The poll: a newer sequence number and its own change, one version up.
      await super.put({ record: { ...current, version: current.version + 1, sequenceNum: current.sequenceNum + 1n, healthy: false }, expectedVersion: current.version });
    }
    return super.put(write);
  }
}

describe('AgentActions and a concurrent poll', () => {
  it.each<[string, (a: AgentActions) => Promise<unknown>, (r: AgentRecord) => void]>([
    ['queueRestart', (a) => a.queueRestart(UID), (r) => expect(r.pendingCommand?.type).toBe('restart')],
    ['queueMessage', (a) => a.queueMessage(UID, { capability: 'io.example.pause', type: 't', data: bytes(1) }), (r) => expect(r.outbox).toHaveLength(1)],
  ])("%s retries after the poll's write and loses neither change", async (_name, act, check) => {
    // Prepare
    const agents = new RacingStore(1);
    await agents.put({ record: record(UID, { customCapabilities: ['io.example.pause'] }), expectedVersion: 0 });
    const actions = new AgentActions({ agents, now: () => T0, ttlMs: TTL });

    // Act
    await act(actions);

    // Assess
    const stored = (await agents.get(UID))!;
    expect(agents.races).toBe(1);
    expect(stored.version).toBe(3);
    expect(stored.sequenceNum).toBe(6n);
    expect(stored.healthy).toBe(false);
    check(stored);
  });

  it('gives up with StoreUnavailableError when every attempt loses the race', async () => {
    // Prepare
    const agents = new RacingStore(100);
    await agents.put({ record: record(UID), expectedVersion: 0 });
    const actions = new AgentActions({ agents, now: () => T0, ttlMs: TTL });

    // Act
    const error = await actions.queueRestart(UID).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(WriteConflictError);
    expect(agents.races).toBe(4);
    expect((await agents.get(UID))?.pendingCommand).toBeUndefined();
  });
});

describe('AgentActions.messages', () => {
  it('lists the received messages newest first and the queued ones', async () => {
    // Prepare
    const outbox: QueuedMessage[] = [{ id: 'q1', capability: 'io.example.pause', type: 't', data: '', queuedAt: T0, expiresAt: T0 + TTL }];
    const { agents, actions } = await setup(record(UID, { outbox }));
    for (let i = 1; i <= 3; i++) {
      await agents.appendInbox(UID, i, { capability: 'io.example.pause', type: `m${i}`, data: '', truncated: false, receivedAt: T0 + i }, 10);
    }

    // Act
    const box = await actions.messages(UID);

    // Assess
    expect(box.received.map((m) => m.type)).toEqual(['m3', 'm2', 'm1']);
    expect(box.queued).toEqual(outbox);
  });

  it('refuses an unknown uid with NotFoundError', async () => {
    const { actions } = await setup();
    await expect(actions.messages(UID)).rejects.toBeInstanceOf(NotFoundError);
  });
});
