import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { AUDIT_SOURCES, auditFilter, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, TIME_BOUND_TEXT } from '../../core/audit.js';
import type { AuditEntry, AuditSource } from '../../core/audit.js';
import type { AuditLog } from '../../ports/audit-log.js';
import { validQuery } from '../validation.js';

const text = (description: string) => z.optional(z.string().check(z.minLength(1), z.describe(description)));

/** GET /api/v1/audit. The values are checked again, and turned into a filter, by core/audit.ts. */
export const auditQuery = z.object({
  since: text(`entries at or after: ${TIME_BOUND_TEXT}`),
  until: text(`entries at or before: ${TIME_BOUND_TEXT}`),
  principal: text('exactly this principal (an IAM ARN, a bucket event principal, local, rollout-engine)'),
  action: text('actions that start with this, e.g. assignment. or config.put'),
  target: text('targets that start with this, e.g. assignments/checkout or agents/<uid>'),
  source: z.optional(z.enum(AUDIT_SOURCES as [AuditSource, ...AuditSource[]])),
  limit: text(`entries per page, 1 to ${MAX_AUDIT_LIMIT} (default ${DEFAULT_AUDIT_LIMIT})`),
  cursor: text('the nextCursor of the previous page'),
});

export type AuditQueryParams = z.input<typeof auditQuery>;

/** An audit entry as the API shows it: its time in ISO form. */
export type AuditEntryView = Omit<AuditEntry, 'at'> & { at: string };

export interface AuditPageView {
  entries: AuditEntryView[];
  nextCursor?: string;
}

/** /api/v1/audit: changes to the fleet's desired state, newest first, filtered and paged. */
export function auditApi(log: AuditLog, now: () => number): Hono {
  const api = new Hono();
  api.get('/', validQuery(auditQuery), async (c) => {
    const page = await log.list(auditFilter(c.req.valid('query'), now()));
    const view: AuditPageView = {
      entries: page.entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      ...(page.next !== undefined ? { nextCursor: page.next } : {}),
    };
    return c.json(view);
  });
  return api;
}
