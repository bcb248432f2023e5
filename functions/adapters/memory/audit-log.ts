import { randomBytes } from 'node:crypto';
import { auditScan, auditSortKey, encodeAuditCursor, matchesAuditFilter } from '../../core/audit.js';
import type { AuditEntry, AuditFilter, AuditPage } from '../../core/audit.js';
import type { AuditLog } from '../../ports/audit-log.js';

/** The audit log in memory (unit tests), with the DynamoDB adapter's order, filters and cursors. */
export class MemoryAuditLog implements AuditLog {
  private readonly items: Array<{ sk: string; entry: AuditEntry }> = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly retentionDays = 90,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    this.items.push({ sk: auditSortKey(entry.at, randomBytes(4).toString('hex')), entry: structuredClone(entry) });
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const { before, from } = auditScan(filter, this.now(), this.retentionDays);
    const candidates = this.items.filter((i) => i.sk < before && i.sk >= from).sort((a, b) => (a.sk < b.sk ? 1 : -1));
    const entries: AuditEntry[] = [];
    for (const [index, item] of candidates.entries()) {
      if (!matchesAuditFilter(item.entry, filter)) continue;
      entries.push(structuredClone(item.entry));
      if (entries.length === filter.limit) return { entries, ...(index < candidates.length - 1 ? { next: encodeAuditCursor(item.sk) } : {}) };
    }
    return { entries };
  }

  /** Every entry, oldest first (tests). */
  all(): AuditEntry[] {
    return this.items.map((i) => structuredClone(i.entry));
  }
}
