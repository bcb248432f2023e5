import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../functions/adapters/memory/audit-log.js';
import {
  auditFilter,
  auditResultOfStatus,
  auditScan,
  auditSortKey,
  boundedEntry,
  decodeAuditCursor,
  encodeAuditCursor,
  isAuditAction,
  matchesAuditFilter,
  parseTimeBound,
} from '../../../functions/core/audit.js';
import type { AuditEntry } from '../../../functions/core/audit.js';
import { RejectedRequestError } from '../../../functions/core/errors.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const HOUR = 3_600_000;

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { at: NOW - HOUR, principal: 'local', source: 'api', action: 'assignment.put', target: 'assignments/checkout', result: 'ok', status: 202, ...overrides };
}

function refusal(input: Parameters<typeof auditFilter>[0]): string {
  try {
    auditFilter(input, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(RejectedRequestError);
    expect((error as RejectedRequestError).code).toBe('invalid-audit-query');
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('audit filters', () => {
  it.each([
    ['30m', NOW - 30 * 60_000],
    ['1h', NOW - HOUR],
    ['7d', NOW - 7 * 24 * HOUR],
    ['2w', NOW - 14 * 24 * HOUR],
    ['2026-12-01', Date.UTC(2026, 11, 1)],
    ['2026-12-01T10:00:00Z', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T10:00:00.250+01:00', Date.UTC(2026, 11, 1, 9, 0, 0, 250)],
  ])('reads the time bound %s', (text, expected) => {
    expect(parseTimeBound(text, NOW)).toBe(expected);
  });

  it.each(['yesterday', '1y', '-1h', '2026-13-01', '2026-12-01T10:00', '1.5h', ''])('refuses the time bound %j', (text) => {
    expect(parseTimeBound(text, NOW)).toBeUndefined();
  });

  it('turns a listing request into a filter with the limit by default', () => {
    expect(auditFilter({ since: '1h', principal: 'local', action: 'assignment.', target: 'assignments/', source: 'api' }, NOW)).toEqual({
      since: NOW - HOUR,
      principal: 'local',
      action: 'assignment.',
      target: 'assignments/',
      source: 'api',
      limit: 100,
    });
  });

  it('refuses a bad request naming every problem', () => {
    const message = refusal({ since: 'yesterday', limit: '0', source: 'console', cursor: 'nope' });
    expect(message).toMatch(/since must be an ISO time/);
    expect(message).toMatch(/limit must be a whole number from 1 to 1000/);
    expect(message).toMatch(/source must be one of api, bucket, rollout/);
    expect(message).toMatch(/cursor is not one this server gave out/);
  });

  it('refuses a since later than until, and empty or huge text filters', () => {
    expect(refusal({ since: '1h', until: '2h' })).toMatch(/since must not be later than until/);
    expect(refusal({ principal: '' })).toMatch(/principal must be 1 to 512 characters/);
    expect(refusal({ target: 'x'.repeat(2000) })).toMatch(/target must be 1 to 1024 characters/);
  });

  it('matches exact principal and source, and action and target prefixes, within the time bounds', () => {
    const e = entry();
    expect(matchesAuditFilter(e, { principal: 'local', action: 'assignment.', target: 'assignments/check', source: 'api', since: e.at, until: e.at })).toBe(true);
    expect(matchesAuditFilter(e, { principal: 'loc' })).toBe(false);
    expect(matchesAuditFilter(e, { action: 'config.' })).toBe(false);
    expect(matchesAuditFilter(e, { target: 'agents/' })).toBe(false);
    expect(matchesAuditFilter(e, { source: 'bucket' })).toBe(false);
    expect(matchesAuditFilter(e, { since: e.at + 1 })).toBe(false);
    expect(matchesAuditFilter(e, { until: e.at - 1 })).toBe(false);
  });
});

describe('audit entries', () => {
  it.each([
    [200, 'ok'],
    [204, 'ok'],
    [202, 'ok'],
    [400, 'refused'],
    [409, 'refused'],
    [503, 'failed'],
    [500, 'failed'],
  ] as const)('status %d is %s', (status, result) => {
    expect(auditResultOfStatus(status)).toBe(result);
  });

  it.each([
    ['assignment.put', true],
    ['config-file.remove', true],
    ['rollout.advance', true],
    ['assignment', false],
    ['Assignment.Put', false],
    ['assignment.', false],
    ['.put', false],
  ] as const)('action %s is a stable dotted name: %s', (action, valid) => {
    expect(isAuditAction(action)).toBe(valid);
  });

  it('cuts long text and too many detail keys, and names an empty principal unknown', () => {
    const detail = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(300)]));
    const bounded = boundedEntry(entry({ principal: '', message: 'm'.repeat(5000), target: 't'.repeat(5000), detail }));
    expect(bounded.principal).toBe('unknown');
    expect(bounded.message).toHaveLength(1000);
    expect(bounded.target).toHaveLength(1024);
    expect(Object.keys(bounded.detail!)).toHaveLength(20);
    expect(bounded.detail!.k0).toHaveLength(256);
  });

  it('gives out cursors it can read back, and refuses others', () => {
    const sk = auditSortKey(NOW, 'a1b2c3');
    expect(sk).toBe('2026-12-02T12:00:00.000Z#a1b2c3');
    expect(decodeAuditCursor(encodeAuditCursor(sk))).toBe(sk);
    expect(decodeAuditCursor(encodeAuditCursor('2026-12-02T12:00:00.000Z'))).toBeUndefined();
    expect(decodeAuditCursor('not a cursor')).toBeUndefined();
  });

  it('scans the days from until back to since, newest first', () => {
    const scan = auditScan({ since: Date.UTC(2026, 10, 29, 23), until: Date.UTC(2026, 11, 1, 1), limit: 10 }, NOW, 90);
    expect(scan.days).toEqual(['2026-12-01', '2026-11-30', '2026-11-29']);
    expect(scan.from).toBe('2026-11-29T23:00:00.000Z');
    expect(scan.before).toBe('2026-12-01T01:00:00.001Z');
  });

  it('scans no further back than the retention (and the TTL lag) without since', () => {
    const scan = auditScan({ limit: 10 }, NOW, 7);
    expect(scan.days).toHaveLength(11);
    expect(scan.days[0]).toBe('2026-12-02');
    expect(scan.days.at(-1)).toBe('2026-11-22');
  });
});

describe('the memory audit log', () => {
  it('lists newest first, filtered, page by page', async () => {
    const log = new MemoryAuditLog(() => NOW);
    for (let i = 0; i < 5; i++) await log.record(entry({ at: NOW - i * HOUR, target: `assignments/a${i}` }));
    await log.record(entry({ at: NOW - 30 * 60_000, source: 'bucket', action: 'config-file.put', target: 'configs/web/a.yaml' }));

    const first = await log.list({ source: 'api', limit: 2 });
    const second = await log.list({ source: 'api', limit: 2, cursor: first.next });
    const third = await log.list({ source: 'api', limit: 2, cursor: second.next });

    expect([...first.entries, ...second.entries, ...third.entries].map((e) => e.target)).toEqual(['assignments/a0', 'assignments/a1', 'assignments/a2', 'assignments/a3', 'assignments/a4']);
    expect(third.next).toBeUndefined();
    expect((await log.list({ action: 'config-file.', limit: 10 })).entries).toHaveLength(1);
  });
});
