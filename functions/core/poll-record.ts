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

/** Fields that alone do not justify a write (see mustWrite). */
const BOOKKEEPING = new Set(['sequenceNum', 'lastMessageDigest', 'lastSeenAt', 'expiresAt', 'version']);

/**
 * Whether anything that must be stored changed. Sequence number, digest and
 * times are left out: they alone do not justify a write. Field by field: the
 * next record is built by copying the stored one, so most fields are the very
 * same value and cost one comparison; only replaced fields are compared in
 * depth.
 */
export function stateChanged(base: AgentRecord, next: AgentRecord): boolean {
  const before = base as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  for (const key in after) if (!BOOKKEEPING.has(key) && !sameValue(before[key], after[key])) return true;
  for (const key in before) if (!(key in after) && before[key] !== undefined && !BOOKKEEPING.has(key)) return true;
  return false;
}

/** The record's state as JSON, bookkeeping fields left out: what a write stores, to check its size. */
export function recordState(record: AgentRecord): string {
  const { sequenceNum: _s, lastMessageDigest: _d, lastSeenAt: _l, expiresAt: _e, version: _v, ...state } = record;
  return JSON.stringify(state, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Equal as stored: the same primitives, arrays and objects (a field holding undefined is no field). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) if (!sameValue(left[key], right[key])) return false;
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
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
