import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { everyAgent } from '../../functions/ports/agent-store.js';
import { minimalRecord, provisionStores } from './harness.js';

/**
 * Listing scans the whole table and keeps the agent records: most items it
 * reads are something else (status sections, presence batches, the fleet
 * partition). A page that fills up just as a scan page ends must still hand
 * out a cursor the next call accepts.
 */
describe('listing agents across a table mostly made of other items', () => {
  it('walks every agent page by page, whatever item a scan page ends on', async () => {
    const s = await provisionStores();
    // Fixed keys: the scan order (by key hash) is the same on every run.
    const uids = Array.from({ length: 12 }, (_, i) => `0190a0b0-c0d0-7e0f-8000-${String(i).padStart(12, '0')}`);
    for (const uid of uids) await s.agents.put({ record: minimalRecord(uid), expectedVersion: 0 });
    for (let i = 0; i < 400; i++) {
      await s.clients.dynamodb.send(new PutItemCommand({ TableName: s.tableName, Item: { pk: { S: `presence#${1_760_000_000_000 + i * 60_000}` }, sk: { S: 'i-0' } } }));
    }

    const seen: string[] = [];
    for await (const record of everyAgent(s.agents, undefined, 1)) seen.push(record.instanceUid);
    const picked: string[] = [];
    for await (const record of everyAgent(s.agents, (r) => r.instanceUid.endsWith('3') || r.instanceUid.endsWith('8'), 1)) picked.push(record.instanceUid);

    expect(seen.sort()).toEqual([...uids].sort());
    expect(picked.sort()).toEqual([uids[3], uids[8]].sort());
  });
});
