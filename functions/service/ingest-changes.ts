import { UNKNOWN_PRINCIPAL } from '../core/audit.js';
import type { AuditEntry } from '../core/audit.js';
import type { AuditLog } from '../ports/audit-log.js';
import { classifyObjectKey } from '../core/bucket-layout.js';

/** One change the bucket ingest recorded; who made it comes from the event. */
export type IngestChange = Pick<AuditEntry, 'action' | 'target' | 'result' | 'message'>;

/**
 * `<kind>.put` or `<kind>.remove` of what `target` names (`configs/web/collector.yaml`,
 * `assignments/checkout.json`, `packages/agent/1.2.0`, `certificates/edge`); a
 * file recorded with an error (a broken assignment, a file too large) is `refused`, with the error.
 */
export function ingestChange(kind: 'config-file' | 'assignment' | 'settings' | 'package' | 'certificate', verb: 'put' | 'remove', target: string, error?: string): IngestChange {
  return { action: `${kind}.${verb}`, target: target.replace(/\/$/, ''), result: error === undefined ? 'ok' : 'refused', ...(error !== undefined ? { message: error } : {}) };
}

/** A key under a managed prefix that breaks the rules: never read, so refused. */
export function rejectedKeyChange(key: string, reason: string): IngestChange {
  return { action: 'object.put', target: key, result: 'refused', message: reason };
}

/** Records the changes as made by `principal` (the event's, or the ingest's own when it has one). */
export async function recordChanges(audit: AuditLog | undefined, changes: readonly IngestChange[], principal: string | undefined, at: number): Promise<void> {
  if (!audit) return;
  for (const change of changes) await audit.record({ at, principal: principal || UNKNOWN_PRINCIPAL, source: 'bucket', ...change });
}

/** Notes `change` once `write` reports that it recorded something. */
export async function noting(write: Promise<boolean>, changes: IngestChange[], change: IngestChange): Promise<boolean> {
  const written = await write;
  if (written) changes.push(change);
  return written;
}

/** The configurations whose files the changes recorded or removed. */
export function configsOf(changes: readonly IngestChange[]): Set<string> {
  const names = new Set<string>();
  for (const change of changes) {
    if (!change.action.startsWith('config-file.')) continue;
    const target = classifyObjectKey(change.target);
    if (target.kind === 'config-file') names.add(target.configName);
  }
  return names;
}
