import type { AgentRecord } from '../../core/agent-record.js';
import type { RecordWrite, SectionWrite } from '../../core/poll-types.js';
import type { SectionKind, SectionRef } from '../../core/sections.js';
import type { ReceivedMessage } from '../../core/agent-commands.js';
import type { AgentListQuery, AgentPage, AgentStore, StoredSection } from '../../ports/agent-store.js';
import { WriteConflictError } from '../../ports/errors.js';
import { compareStrings } from '../../core/compare.js';

/**
 * An AgentStore in process memory with the same conditional-write semantics
 * as the DynamoDB adapter. For unit tests; records are copied in and out so
 * that callers cannot change stored state by accident.
 */
export class MemoryAgentStore implements AgentStore {
  private readonly records = new Map<string, AgentRecord>();
  private readonly sections = new Map<string, StoredSection>();

  async get(instanceUid: string): Promise<AgentRecord | undefined> {
    const record = this.records.get(instanceUid);
    return record ? structuredClone(record) : undefined;
  }

  async put({ record, expectedVersion }: RecordWrite): Promise<void> {
    const current = this.records.get(record.instanceUid);
    if ((current?.version ?? 0) !== expectedVersion) {
      throw new WriteConflictError(record.instanceUid, expectedVersion);
    }
    this.records.set(record.instanceUid, structuredClone(record));
  }

  async writeSections(puts: readonly SectionWrite[], deletes: ReadonlyArray<SectionRef & { instanceUid: string }> = []): Promise<void> {
    for (const { instanceUid, id, content } of puts) {
      this.sections.set(sectionKey(instanceUid, content.kind, id), structuredClone(content));
    }
    for (const ref of deletes) this.sections.delete(sectionKey(ref.instanceUid, ref.kind, ref.id));
  }

  async copySections(from: string, to: string, sections: readonly SectionRef[]): Promise<void> {
    for (const { kind, id } of sections) {
      const section = this.sections.get(sectionKey(from, kind, id));
      if (section) this.sections.set(sectionKey(to, kind, id), structuredClone(section));
    }
  }

  async getSection(instanceUid: string, ref: SectionRef): Promise<StoredSection | undefined> {
    const section = this.sections.get(sectionKey(instanceUid, ref.kind, ref.id));
    return section ? structuredClone(section) : undefined;
  }

  /** How many section contents are stored (all agents). */
  get sectionCount(): number {
    return this.sections.size;
  }

  async list({ limit, cursor, where }: AgentListQuery): Promise<AgentPage> {
    const all = [...this.records.values()].filter((r) => !r.movedTo && (!where || where(r))).sort((a, b) => compareStrings(a.instanceUid, b.instanceUid));
    const start = cursor ? all.findIndex((r) => r.instanceUid > cursor) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const last = page.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return { records: page.map((r) => structuredClone(r)), ...(more && last ? { cursor: last.instanceUid } : {}) };
  }

  private readonly inboxes = new Map<string, Map<number, ReceivedMessage>>();

  async appendInbox(instanceUid: string, index: number, message: ReceivedMessage, keep: number): Promise<void> {
    const inbox = this.inboxes.get(instanceUid) ?? new Map<number, ReceivedMessage>();
    inbox.set(index, structuredClone(message));
    inbox.delete(index - keep);
    this.inboxes.set(instanceUid, inbox);
  }

  async listInbox(instanceUid: string): Promise<ReceivedMessage[]> {
    const inbox = this.inboxes.get(instanceUid) ?? new Map<number, ReceivedMessage>();
    return [...inbox.entries()].sort(([a], [b]) => b - a).map(([, m]) => structuredClone(m));
  }

  async ping(): Promise<void> {}
}

function sectionKey(instanceUid: string, kind: SectionKind, id: string): string {
  return `${instanceUid}/${kind}/${id}`;
}
