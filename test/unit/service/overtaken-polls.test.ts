import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { SectionWrite } from '../../../functions/core/poll-types.js';
import { contentId } from '../../../functions/core/canonical-hash.js';
import { instanceUidToText } from '../../../functions/core/instance-uid.js';
import type { SectionRef } from '../../../functions/core/sections.js';
import { AgentToServerSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { toBinary } from '@bufbuild/protobuf';
import { COLLECTOR_CAPS, agentToServer, fullReport, health, newUidBytes } from '../../support/messages.js';

/**
 * Two polls of one agent in flight at once, the newer one stored first. The
 * older one is still stored on top (with status compression its changes may
 * be news), but its lower number is reordering: it must not make the agent's
 * next message look like a second agent sharing its uid.
 */

const T0 = 1_750_000_000_000;

/** A memory store whose next call of one kind waits until the test lets it go on. */
class GatedStore extends MemoryAgentStore {
  private gate: { kind: 'get' | 'writeSections'; reached: () => void; opened: Promise<void> } | undefined;

  /** Holds the next `kind` call; resolves once a call is held, with the function that lets it go on. */
  hold(kind: 'get' | 'writeSections'): Promise<() => void> {
    return new Promise((held) => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      this.gate = { kind, reached: () => held(open), opened };
    });
  }

  private async pass(kind: 'get' | 'writeSections'): Promise<void> {
    const gate = this.gate;
    if (gate?.kind !== kind) return;
    this.gate = undefined;
    gate.reached();
    await gate.opened;
  }

  override async get(instanceUid: string): Promise<AgentRecord | undefined> {
    await this.pass('get');
    return super.get(instanceUid);
  }

  override async writeSections(puts: readonly SectionWrite[], deletes?: ReadonlyArray<SectionRef & { instanceUid: string }>): Promise<void> {
    await this.pass('writeSections');
    return super.writeSections(puts, deletes);
  }
}

function setup() {
  const agents = new GatedStore();
  const clock = { now: T0 };
  const service = new PollService({
    agents,
    now: () => clock.now,
    newInstanceUid: () => '01900000-0000-7000-8000-0000000000aa',
    options: DEFAULT_CORE_OPTIONS,
  });
  const poll = (message: AgentToServer) => service.poll(message, contentId(toBinary(AgentToServerSchema, message)));
  return { agents, clock, poll };
}

function change(uid: Uint8Array, sequenceNum: bigint, label: string): AgentToServer {
  return agentToServer({ instanceUid: uid, sequenceNum, capabilities: COLLECTOR_CAPS, health: health(false, {}, label) });
}

/** An agent that made its first full report. */
async function reported() {
  const parts = setup();
  const uid = newUidBytes();
  await parts.poll(fullReport(uid, 1n));
  return { ...parts, uid, text: instanceUidToText(uid) };
}

/**
 * Message 2 is held at the store call `at`; message 3, sent later, is stored
 * meanwhile; then message 2 goes on. Returns what became of message 2.
 */
async function newerStoredFirst({ agents, clock, poll, uid }: ReturnType<typeof setup> & { uid: Uint8Array }, at: 'get' | 'writeSections'): Promise<unknown> {
  const held = agents.hold(at);
  clock.now += 1_000;
  const older = poll(change(uid, 2n, 'change-2'));
  const letGo = await held;
  clock.now += 1_000;
  await poll(change(uid, 3n, 'change-3'));
  letGo();
  return older.then(
    () => 'stored',
    (error: unknown) => error,
  );
}

/** The agent's stored health section, as text (its error message is in it). */
async function storedError(agents: MemoryAgentStore, uid: string): Promise<string | undefined> {
  const record = (await agents.get(uid))!;
  const section = await agents.getSection(uid, { kind: 'health', id: record.sectionIds.health! });
  return section ? Buffer.from(section.bytes).toString('utf8') : undefined;
}

describe('a poll overtaken by a newer one of the same agent', () => {
  // 'writeSections': message 2 read the record and stops before its write, so it conflicts and reads again.
  // 'get': message 2 arrived first, but its first read comes only after message 3 was stored.
  it.each(['writeSections', 'get'] as const)('is stored when held at %s while a newer one is stored, and the next report keeps the uid', async (at) => {
    // Prepare
    const { agents, clock, poll, uid, text } = await reported();

    // Act
    const olderOutcome = await newerStoredFirst({ agents, clock, poll, uid }, at);
    const afterOlder = (await agents.get(text))!;
    clock.now += 1_000;
    const settled = await poll(fullReport(uid, 30n, { health: health(true, {}, 'settled') }));

    // Assess: every message committed a version of its own, no reset was noted, and the full report kept the agent's uid.
    expect(olderOutcome).toBe('stored');
    expect(afterOlder.sequenceNum).toBe(2n);
    expect(afterOlder.fingerprint?.preResetSeq).toBeUndefined();
    expect(settled.events).not.toContain('duplicate-uid');
    expect(settled.reply.agentIdentification).toBeUndefined();
    const record = (await agents.get(text))!;
    expect(record.movedTo).toBeUndefined();
    expect(record.sequenceNum).toBe(30n);
    expect(record.version).toBe(4);
    expect(await storedError(agents, text)).toContain('settled');
  });

  it('still takes a lower number that arrives after the record was written as a restart', async () => {
    // Prepare
    const { agents, clock, poll } = setup();
    const uid = newUidBytes();
    await poll(fullReport(uid, 1n));
    clock.now += 1_000;
    await poll(change(uid, 2n, 'change-2'));

    // Act
    clock.now += 1_000;
    const restarted = await poll(fullReport(uid, 1n, { health: health(true, {}, 'restarted') }));

    // Assess
    expect(restarted.events).toContain('sequence-reset');
    expect((await agents.get(instanceUidToText(uid)))!.sequenceNum).toBe(1n);
  });

  it('still answers a retry of the stored message as a duplicate', async () => {
    // Prepare
    const { agents, clock, poll } = setup();
    const uid = newUidBytes();
    await poll(fullReport(uid, 1n));
    const message = change(uid, 2n, 'change-2');
    await poll(message);

    // Act
    clock.now += 1_000;
    const retried = await poll(message);

    // Assess
    expect(retried.events).toEqual(['duplicate']);
    expect((await agents.get(instanceUidToText(uid)))!.version).toBe(2);
  });
});
