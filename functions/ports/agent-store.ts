import type { AgentRecord } from '../core/agent-record.js';
import type { RecordWrite, SectionWrite } from '../core/poll-types.js';
import type { SectionKind, SectionRef } from '../core/sections.js';
import type { ReceivedMessage } from '../core/agent-commands.js';

export interface StoredSection {
  kind: SectionKind;
  /** Content hash. */
  hash: string;
  bytes: Uint8Array;
}

export interface AgentPage {
  records: AgentRecord[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface AgentListQuery {
  limit: number;
  cursor?: string | undefined;
  where?: ((record: AgentRecord) => boolean) | undefined;
}

/** Generation counters of what function instances cache (fleet metadata, agent tokens). */
export interface ControlGenerations {
  fleet: string;
  auth: string;
}

/** Where agent records and their sections live. */
export interface AgentStore {
  /** The agent's record, read strongly consistent (it decides sequence gaps). */
  get(instanceUid: string): Promise<AgentRecord | undefined>;

  /**
   * The agent's record and the control generations in one read call, for a
   * poll whose instance caches are due for revalidation. Optional: without
   * it, the caches revalidate with reads of their own.
   */
  getWithGenerations?(instanceUid: string): Promise<{ record: AgentRecord | undefined; generations: ControlGenerations }>;

  /**
   * Stores a record if its stored version still equals `expectedVersion`
   * (0: only if there is none). Throws WriteConflictError otherwise.
   */
  put(write: RecordWrite): Promise<void>;

  /**
   * Stores section contents and deletes superseded ones. Each write has its
   * own item id, so writing one never changes what a stored record refers to.
   */
  writeSections(puts: readonly SectionWrite[], deletes?: ReadonlyArray<SectionRef & { instanceUid: string }>): Promise<void>;

  /** Copies stored sections from one uid to another (when an agent is given a new uid). */
  copySections(from: string, to: string, sections: readonly SectionRef[]): Promise<void>;

  getSection(instanceUid: string, ref: SectionRef): Promise<StoredSection | undefined>;

  /** Records matching `where`, in no particular order, skipping uid redirects. */
  list(query: AgentListQuery): Promise<AgentPage>;

  /**
   * Keeps a message an agent sent, numbered `index` (1, 2, ...), and drops the
   * one that falls out of the last `keep`.
   */
  appendInbox(instanceUid: string, index: number, message: ReceivedMessage, keep: number): Promise<void>;

  /** The agent's kept messages, newest first. */
  listInbox(instanceUid: string): Promise<ReceivedMessage[]>;

  /** Resolves when the store answers; used by the health check. */
  ping(): Promise<void>;
}

/** Every record matching `where`, page by page (for fleet-wide reports and actions). */
export async function* everyAgent(store: Pick<AgentStore, 'list'>, where?: (record: AgentRecord) => boolean, pageSize = 500): AsyncGenerator<AgentRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: pageSize, cursor, ...(where ? { where } : {}) });
    yield* page.records;
    cursor = page.cursor;
  } while (cursor);
}
