import type { AuditEntry, AuditFilter, AuditPage } from '../core/audit.js';

/**
 * Where changes to the fleet's desired state are recorded, and read back.
 *
 * `record` never throws into the caller's path: the change it describes has
 * already happened (or been refused), and an API write or a bucket ingest
 * must not fail, or be retried, because its audit entry could not be written.
 * A failure is logged and counted (`AuditWriteFailed`) instead. Adapters may
 * throw; callers always hold them through `AuditTrail`
 * (service/audit-trail.ts), which keeps this promise.
 */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first; `next` when there may be more. A cursor not made by this log is refused. */
  list(filter: AuditFilter): Promise<AuditPage>;
}
