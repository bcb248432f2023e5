import type { RejectedKey } from '../core/rejected-keys.js';

/** The bounded list of bucket keys the ingest rejected, for operators to see. */
export interface RejectedKeyLog {
  /** Adds entries (see mergeRejectedKeys); writes, and returns true, only when the list changes. */
  record(entries: readonly RejectedKey[]): Promise<boolean>;
  /** Newest first. */
  list(): Promise<RejectedKey[]>;
}
