import { RejectedRequestError } from './errors.js';

/**
 * The audit log: one entry per change to the fleet's desired state, through
 * the fleet API (`api`), the bucket (`bucket`) or a rollout (`rollout`), with
 * who made it, what it was, when, and how it ended.
 */
export type AuditSource = 'api' | 'bucket' | 'rollout';
export const AUDIT_SOURCES: readonly AuditSource[] = ['api', 'bucket', 'rollout'];

/** `ok`: done; `refused`: bad input or a rule said no (4xx, a rejected file); `failed`: the server could not (5xx). */
export type AuditResult = 'ok' | 'refused' | 'failed';

export type AuditDetail = Record<string, string | number | boolean>;

export interface AuditEntry {
  /** When it happened, ms since the epoch. */
  at: number;
  /** The IAM principal (ARN) of an API caller, the S3 event's principal of an upload, `local` on the local backend. */
  principal: string;
  source: AuditSource;
  /** A stable dotted name: `assignment.put`, `config-file.remove`, `agent.restart`, `token.revoke`, `rollout.pause`. */
  action: string;
  /** What it acted on, as a path: `assignments/checkout`, `configs/web/collector.yaml`, `agents/<uid>`. */
  target: string;
  result: AuditResult;
  /** The HTTP status of an API request. */
  status?: number | undefined;
  /** Why it was refused or failed. */
  message?: string | undefined;
  detail?: AuditDetail | undefined;
}

/** Who records an entry with no principal of its own: the local backend, and the rollout engine. */
export const LOCAL_PRINCIPAL = 'local';
export const ROLLOUT_PRINCIPAL = 'rollout-engine';
/** A request or event that carried no identity (which AWS does not deliver for IAM-authenticated calls). */
export const UNKNOWN_PRINCIPAL = 'unknown';

/** Dotted lower-case words: `assignment.put`, `config-file.remove`. */
export const ACTION_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export function isAuditAction(action: string): boolean {
  return ACTION_PATTERN.test(action);
}

export function auditResultOfStatus(status: number): AuditResult {
  if (status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return 'ok';
}

const MAX_TEXT = { principal: 512, action: 100, target: 1024, message: 1000, detailKey: 64, detailValue: 256 } as const;
const MAX_DETAIL_KEYS = 20;

/** An entry cut to sizes a table item holds comfortably, whatever a caller or a bucket key put in it. */
export function boundedEntry(entry: AuditEntry): AuditEntry {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);
  const detail = entry.detail
    ? Object.fromEntries(
        Object.entries(entry.detail)
          .slice(0, MAX_DETAIL_KEYS)
          .map(([k, v]) => [cut(k, MAX_TEXT.detailKey), typeof v === 'string' ? cut(v, MAX_TEXT.detailValue) : v]),
      )
    : undefined;
  return {
    at: entry.at,
    principal: cut(entry.principal || UNKNOWN_PRINCIPAL, MAX_TEXT.principal),
    source: entry.source,
    action: cut(entry.action, MAX_TEXT.action),
    target: cut(entry.target, MAX_TEXT.target),
    result: entry.result,
    ...(entry.status !== undefined ? { status: entry.status } : {}),
    ...(entry.message !== undefined ? { message: cut(entry.message, MAX_TEXT.message) } : {}),
    ...(detail && Object.keys(detail).length > 0 ? { detail } : {}),
  };
}

/** What a listing asks for; every part but `limit` optional. Newest first. */
export interface AuditFilter {
  /** Entries at or after this time (ms). */
  since?: number | undefined;
  /** Entries at or before this time (ms). */
  until?: number | undefined;
  /** Exactly this principal. */
  principal?: string | undefined;
  /** Actions that start with this (`assignment.` or `assignment.put`). */
  action?: string | undefined;
  /** Targets that start with this (`assignments/` or `agents/<uid>`). */
  target?: string | undefined;
  source?: AuditSource | undefined;
  limit: number;
  /** Where the previous page stopped (its `next`). */
  cursor?: string | undefined;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Present when there may be more: pass it as `cursor`. */
  next?: string | undefined;
}

export const MAX_AUDIT_LIMIT = 1000;
export const DEFAULT_AUDIT_LIMIT = 100;

export function matchesAuditFilter(entry: AuditEntry, filter: Omit<AuditFilter, 'limit' | 'cursor'>): boolean {
  return (
    (filter.since === undefined || entry.at >= filter.since) &&
    (filter.until === undefined || entry.at <= filter.until) &&
    (filter.principal === undefined || entry.principal === filter.principal) &&
    (filter.action === undefined || entry.action.startsWith(filter.action)) &&
    (filter.target === undefined || entry.target.startsWith(filter.target)) &&
    (filter.source === undefined || entry.source === filter.source)
  );
}

/**
 * Entries are ordered by a sort key: the ISO time, then a random suffix that
 * keeps two entries of one millisecond apart. A cursor is the sort key of the
 * last entry a page looked at, so the next page starts just below it.
 */
export function auditSortKey(at: number, random: string): string {
  return `${new Date(at).toISOString()}#${random}`;
}

const SORT_KEY_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-z]{1,32}$/;

export function encodeAuditCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

/** The sort key a cursor holds; undefined when it is not one this server made. */
export function decodeAuditCursor(cursor: string): string | undefined {
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  return SORT_KEY_PATTERN.test(sortKey) && !Number.isNaN(Date.parse(sortKey.slice(0, 24))) ? sortKey : undefined;
}

/** The UTC day (`2026-12-02`) of a time: entries are partitioned by it. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

const DURATION = /^(\d{1,6})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
/** An ISO 8601 date, or a date and time with a zone (`2026-12-02`, `2026-12-02T10:00:00Z`, `...+01:00`). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export const TIME_BOUND_TEXT = 'an ISO time (2026-12-02T10:00:00Z, 2026-12-02) or a duration back from now (30m, 1h, 7d, 2w)';

/** `since`/`until` as given: an ISO time, or a duration back from `now`. Undefined when it is neither. */
export function parseTimeBound(text: string, now: number): number | undefined {
  const duration = DURATION.exec(text);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
  if (!ISO_TIME.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

/** A listing request as it arrives (query strings), before it is checked. */
export interface AuditQueryInput {
  since?: string | undefined;
  until?: string | undefined;
  principal?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  source?: string | undefined;
  limit?: string | number | undefined;
  cursor?: string | undefined;
}

/**
 * Checks a listing request and turns it into a filter; a request that breaks a
 * rule is refused (`invalid-audit-query`, 400) naming every problem.
 */
export function auditFilter(input: AuditQueryInput, now: number): AuditFilter {
  const problems: string[] = [];
  const bound = (name: 'since' | 'until') => {
    const text = input[name];
    if (text === undefined) return undefined;
    const at = parseTimeBound(text, now);
    if (at === undefined) problems.push(`${name} must be ${TIME_BOUND_TEXT}, not ${JSON.stringify(text.slice(0, 40))}`);
    return at;
  };
  const since = bound('since');
  const until = bound('until');
  if (since !== undefined && until !== undefined && since > until) problems.push('since must not be later than until');
  const limit = input.limit === undefined ? DEFAULT_AUDIT_LIMIT : Number(input.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) problems.push(`limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`);
  if (input.source !== undefined && !AUDIT_SOURCES.includes(input.source as AuditSource)) problems.push(`source must be one of ${AUDIT_SOURCES.join(', ')}`);
  if (input.cursor !== undefined && decodeAuditCursor(input.cursor) === undefined) problems.push('cursor is not one this server gave out');
  for (const name of ['principal', 'action', 'target'] as const) {
    const value = input[name];
    if (value !== undefined && (value === '' || value.length > MAX_TEXT[name])) problems.push(`${name} must be 1 to ${MAX_TEXT[name]} characters`);
  }
  if (problems.length > 0) throw new RejectedRequestError('invalid', 'invalid-audit-query', problems.join('; '));
  return {
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(input.principal !== undefined ? { principal: input.principal } : {}),
    ...(input.action !== undefined ? { action: input.action } : {}),
    ...(input.target !== undefined ? { target: input.target } : {}),
    ...(input.source !== undefined ? { source: input.source as AuditSource } : {}),
    limit,
    ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
  };
}

/** Days listed beyond the retention: DynamoDB's TTL deletes expired items within a few days, not at once. */
const TTL_LAG_DAYS = 3;

export interface AuditScan {
  /** Day partitions to read, newest first. */
  days: string[];
  /** Sort keys below this (a cursor, or just after `until`). */
  before: string;
  /** Sort keys at or above this (`since`). */
  from: string;
}

/**
 * Which day partitions and sort keys a listing reads: from the cursor (or
 * `until`, or now) back to `since` (or as far as entries are kept).
 */
export function auditScan(filter: AuditFilter, now: number, retentionDays: number): AuditScan {
  const cursor = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor);
  const untilKey = `${new Date((filter.until ?? now + 60_000) + 1).toISOString()}`;
  const before = cursor !== undefined && cursor < untilKey ? cursor : untilKey;
  const oldest = now - (retentionDays + TTL_LAG_DAYS) * 86_400_000;
  const since = Math.max(filter.since ?? oldest, oldest);
  const from = new Date(since).toISOString();
  const days: string[] = [];
  const newest = Date.parse(before.slice(0, 24));
  for (let day = Date.parse(`${utcDay(newest)}T00:00:00.000Z`); day >= Date.parse(`${utcDay(since)}T00:00:00.000Z`); day -= 86_400_000) days.push(utcDay(day));
  return { days, before, from };
}
