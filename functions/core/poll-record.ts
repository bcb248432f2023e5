import { create } from '@bufbuild/protobuf';
import { AgentToServerFlags, ServerToAgentSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from './agent-record.js';
import { serverCapabilities } from './capabilities.js';
import type { CoreOptions } from './core-options.js';
import type { FeatureOutcome, PollDecision, PollEvent, PollInput, RecordChanges, RecordWrite, SectionWrite } from './poll-types.js';
import { sectionId } from './sections.js';
import type { SectionContent, SectionRef } from './sections.js';

/*
 * How a poll's decision becomes writes: record versions and expiry, section
 * item ids, and whether anything changed enough to be written at all.
 */

/**
 * Whether anything that must be stored changed. Sequence number, digest and
 * times are left out: they alone do not justify a write (see mustWrite).
 */
export function stateChanged(base: AgentRecord, next: AgentRecord): boolean {
  return comparable(base) !== comparable(next);
}

/**
 * The record's state as text. The next record is built by copying the stored
 * one, so equal state gives equal text; a field removed and set again may move
 * and read as a change, which costs at most one needless write.
 */
function comparable(record: AgentRecord): string {
  const { sequenceNum: _s, lastMessageDigest: _d, lastSeenAt: _l, expiresAt: _e, version: _v, ...state } = record;
  return JSON.stringify(state, bigintAsText);
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A value given as is or as a function computing it, computed at most once. */
export function lazily(value: string | (() => string)): () => string {
  if (typeof value === 'string') return () => value;
  let computed: string | undefined;
  return () => (computed ??= value());
}

/** The stamp for sections written under a new uid (its first record version). */
export function stamp(input: PollInput): string {
  return input.writeId === undefined ? 'v1' : lazily(input.writeId)();
}

/** Gives each section this decision writes its own item id, and points the record at it. */
export function placeSections(instanceUid: string, contents: readonly SectionContent[], stamp: string, next: AgentRecord): SectionWrite[] {
  return contents.map((content) => {
    const id = sectionId(content.hash, stamp);
    next.sectionIds = { ...next.sectionIds, [content.kind]: id };
    return { instanceUid, id, content };
  });
}

/**
 * Which superseded sections this poll may delete (those a committed record
 * already stopped referring to), and which it supersedes itself (deleted by a
 * later poll, after this one's record is committed). Item ids are unique per
 * writing poll, so a delete never hits an item another poll wrote.
 */
export function retireSections(base: AgentRecord, written: readonly SectionWrite[]): { deletes: SectionRef[]; superseded: SectionRef[] } {
  const pending = base.supersededSections ?? [];
  if (written.length === 0) return { deletes: [], superseded: pending };
  return {
    deletes: pending,
    superseded: written.flatMap((w) => {
      const old = base.sectionIds[w.content.kind];
      return old !== undefined ? [{ kind: w.content.kind, id: old }] : [];
    }),
  };
}

export function requestsNewUid(message: AgentToServer): boolean {
  return (message.flags & BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid)) !== 0n;
}

export function emptyRecord(uid: string, now: number, version: number): AgentRecord {
  return {
    instanceUid: uid,
    version,
    sequenceNum: 0n,
    lastMessageDigest: '',
    capabilities: 0n,
    firstSeenAt: now,
    lastSeenAt: now,
    attributes: {},
    sections: {},
    sectionIds: {},
    expiresAt: 0,
  };
}

export function refreshLastSeen(record: AgentRecord, now: number, options: CoreOptions): RecordWrite {
  return { record: finish({ ...record }, now, options), expectedVersion: record.version };
}

/**
 * Stamps what every write carries: the next version, last-seen, the expiry,
 * and the digest of the message whose sequence number it stores.
 */
export function finish(record: AgentRecord, now: number, options: CoreOptions, digest?: () => string): AgentRecord {
  if (digest) record.lastMessageDigest = digest();
  record.version += 1;
  record.lastSeenAt = now;
  record.expiresAt = Math.floor((now + options.recordRetentionMs) / 1000);
  return record;
}

/** The reply every successful poll starts from: the uid echoed and our capabilities. */
export function successReply(message: AgentToServer, options: CoreOptions): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid: message.instanceUid,
    capabilities: serverCapabilities(options.features),
  });
}

/** Applies one feature's outcome to the record, the reply and the events being built. */
export function applyOutcome(
  outcome: FeatureOutcome | undefined,
  next: AgentRecord,
  reply: ServerToAgent,
  events: PollEvent[],
  attach: Pick<PollDecision, 'attachConfig' | 'attachPackages' | 'inbox'>,
): void {
  if (!outcome) return;
  if (outcome.changes) applyChanges(next, outcome.changes);
  if (outcome.reply) Object.assign(reply, outcome.reply);
  if (outcome.flags !== undefined) reply.flags |= outcome.flags;
  if (outcome.events) events.push(...outcome.events);
  if (outcome.attachConfig) attach.attachConfig = outcome.attachConfig;
  if (outcome.attachPackages) attach.attachPackages = outcome.attachPackages;
  if (outcome.inbox) attach.inbox = outcome.inbox;
}

function applyChanges(record: AgentRecord, changes: RecordChanges): void {
  const target = record as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete target[key];
    else target[key] = value;
  }
}
