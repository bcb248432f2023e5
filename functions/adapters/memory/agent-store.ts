import type { AgentRecord } from '../../core/agent-record.js';
import type { RecordWrite, SectionWrite } from '../../core/decide-poll.js';
import type { SectionKind } from '../../core/sections.js';
import type { AgentListQuery, AgentPage, AgentStore, StoredSection } from '../../ports/agent-store.js';
import { WriteConflictError } from '../../ports/errors.js';

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

  async putSections(writes: readonly SectionWrite[]): Promise<void> {
    for (const { instanceUid, content } of writes) {
      this.sections.set(sectionKey(instanceUid, content.kind), structuredClone(content));
    }
  }

  async copySections(from: string, to: string, kinds: readonly SectionKind[]): Promise<void> {
    for (const kind of kinds) {
      const section = this.sections.get(sectionKey(from, kind));
      if (section) this.sections.set(sectionKey(to, kind), structuredClone(section));
    }
  }

  async getSection(instanceUid: string, kind: SectionKind): Promise<StoredSection | undefined> {
    const section = this.sections.get(sectionKey(instanceUid, kind));
    return section ? structuredClone(section) : undefined;
  }

  async list({ limit, cursor, where }: AgentListQuery): Promise<AgentPage> {
    const all = [...this.records.values()]
      .filter((r) => !r.movedTo && (!where || where(r)))
      .sort((a, b) => a.instanceUid.localeCompare(b.instanceUid));
    const start = cursor ? all.findIndex((r) => r.instanceUid > cursor) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const last = page.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return { records: page.map((r) => structuredClone(r)), ...(more && last ? { cursor: last.instanceUid } : {}) };
  }

  async ping(): Promise<void> {}
}

function sectionKey(instanceUid: string, kind: SectionKind): string {
  return `${instanceUid}/${kind}`;
}
