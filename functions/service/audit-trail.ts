import { boundedEntry } from '../core/audit.js';
import type { AuditEntry, AuditFilter, AuditPage } from '../core/audit.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AuditLog } from '../ports/audit-log.js';

/**
 * The audit log as every writer holds it (fleet API, bucket ingest, rollout
 * engine): entries are cut to bounded sizes, and a failure to write one is
 * logged and counted, never thrown, so that the change it describes keeps
 * its own result.
 */
export class AuditTrail implements AuditLog {
  constructor(
    private readonly log: AuditLog,
    private readonly telemetry: Telemetry,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.log.record(boundedEntry(entry));
    } catch (error) {
      this.telemetry.count('AuditWriteFailed');
      this.telemetry.logger.error('audit entry not written', {
        error: (error as Error).message,
        entry: { action: entry.action, target: entry.target, principal: entry.principal, result: entry.result },
      });
    }
  }

  list(filter: AuditFilter): Promise<AuditPage> {
    return this.log.list(filter);
  }
}
