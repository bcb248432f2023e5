import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../functions/adapters/dynamodb/audit-log.js';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table-schema.js';
import type { AuditEntry } from '../../functions/core/audit.js';
import { countCommands, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function entry(at: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { at, principal: 'local', source: 'api', action: 'assignment.put', target: `assignments/a${at}`, result: 'ok', status: 202, ...overrides };
}

describe('the audit log in DynamoDB', () => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await provisionStores();
  });
  const fresh = async (retentionDays = 90) => {
    const s = await provisionStores({ clients: stores.clients });
    return { log: new DynamoAuditLog({ client: s.clients.dynamodb, tableName: s.tableName, retentionDays, now: () => NOW }), tableName: s.tableName };
  };
  const itemsOf = async (tableName: string, day: string) =>
    (await stores.clients.dynamodb.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `audit#${day}` } } }))).Items ?? [];

  it('writes each entry into the partition of its UTC day, with the TTL attribute at the retention', async () => {
    const { log, tableName } = await fresh(30);
    const at = Date.UTC(2026, 11, 1, 23, 59, 59, 500);

    await log.record(entry(at, { message: 'why', detail: { force: 'true', n: 2, ok: false } }));

    const [item] = await itemsOf(tableName, '2026-12-01');
    expect(item?.sk?.S).toMatch(/^2026-12-01T23:59:59\.500Z#[0-9a-f]+$/);
    expect(Number(item?.[TTL_ATTRIBUTE]?.N)).toBe(Math.floor(at / 1000) + 30 * 86_400);
    expect((await log.list({ limit: 10 })).entries).toEqual([entry(at, { message: 'why', detail: { force: 'true', n: 2, ok: false } })]);
  });

  it('keeps the entries out of the fleet partition that every function instance reads', async () => {
    const s = await provisionStores({ clients: stores.clients });
    const log = new DynamoAuditLog({ client: s.clients.dynamodb, tableName: s.tableName, retentionDays: 90, now: () => NOW });
    await log.record(entry(NOW - HOUR));

    const snapshot = await new DynamoFleetStore(s.clients.dynamodb, s.tableName).load();

    expect(snapshot.configFiles).toEqual([]);
    expect(snapshot.assignments).toEqual([]);
  });

  it('lists across day partitions newest first, filtered, page by page with cursors', async () => {
    const { log } = await fresh();
    const times = [NOW - HOUR, NOW - 20 * HOUR, NOW - DAY - HOUR, NOW - 3 * DAY, NOW - 10 * DAY];
    for (const at of times) await log.record(entry(at));
    await log.record(entry(NOW - 2 * HOUR, { source: 'bucket', principal: 'AWS:AROAEXAMPLE:alice', action: 'config-file.put', target: 'configs/web/a.yaml' }));
    await log.record(entry(NOW - 2 * DAY, { result: 'refused', status: 400, action: 'assignment.remove' }));

    const pages: AuditEntry[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list({ source: 'api', action: 'assignment.put', limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.entries);
      cursor = page.next;
    } while (cursor);

    expect(pages.flat().map((e) => e.at)).toEqual(times);
    expect(pages[0]).toHaveLength(2);
    expect((await log.list({ principal: 'AWS:AROAEXAMPLE:alice', limit: 10 })).entries.map((e) => e.target)).toEqual(['configs/web/a.yaml']);
    expect((await log.list({ target: 'configs/', limit: 10 })).entries).toHaveLength(1);
    expect((await log.list({ action: 'assignment.remove', limit: 10 })).entries.map((e) => e.result)).toEqual(['refused']);
  });

  it('reads only the days between since and until', async () => {
    const { log } = await fresh();
    for (const days of [0, 1, 2, 3, 4]) await log.record(entry(NOW - days * DAY));
    const counts = countCommands(stores.clients.dynamodb);
    const before = counts.get('QueryCommand') ?? 0;

    const { entries } = await log.list({ since: NOW - 3 * DAY - HOUR, until: NOW - DAY, limit: 10 });

    expect(entries.map((e) => e.at)).toEqual([NOW - DAY, NOW - 2 * DAY, NOW - 3 * DAY]);
    // 2026-12-01 (until) back to 2026-11-29 (since): three day partitions, and none outside them.
    expect((counts.get('QueryCommand') ?? 0) - before).toBe(3);
  });

  it('keeps two entries of the same millisecond apart', async () => {
    const { log } = await fresh();
    await log.record(entry(NOW - HOUR, { target: 'one' }));
    await log.record(entry(NOW - HOUR, { target: 'two' }));

    expect((await log.list({ limit: 10 })).entries.map((e) => e.target).sort()).toEqual(['one', 'two']);
  });
});
