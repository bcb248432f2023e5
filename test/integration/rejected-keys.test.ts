import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoRejectedKeyLog } from '../../functions/adapters/dynamodb/rejected-keys.js';
import { REJECTED_KEYS_KEY } from '../../functions/adapters/dynamodb/table-schema.js';
import { MAX_REJECTED_KEYS } from '../../functions/core/rejected-keys.js';
import { countCommands, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

const T0 = Date.UTC(2026, 0, 1);

describe('rejected bucket keys in DynamoDB', () => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await provisionStores();
  });
  const fresh = async () => {
    const s = await provisionStores({ clients: stores.clients });
    return new DynamoRejectedKeyLog(s.clients.dynamodb, s.tableName);
  };

  it('keeps every entry when ingest invocations record at once', async () => {
    // Prepare
    const log = await fresh();

    // Act
    await Promise.all(Array.from({ length: 8 }, (_, i) => log.record([{ key: `configs/x/${i}/../y`, reason: 'dot', at: T0 + i }])));

    // Assess
    expect((await log.list()).map((e) => e.key).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `configs/x/${i}/../y`).sort());
  });

  it('writes nothing when the same keys are rejected again', async () => {
    // Prepare
    const log = await fresh();
    await log.record([{ key: 'assignments/a.yaml', reason: 'not json', at: T0 }]);
    const counts = countCommands(stores.clients.dynamodb);

    // Act
    const changed = await log.record([{ key: 'assignments/a.yaml', reason: 'not json', at: T0 + 1 }]);

    // Assess
    expect(changed).toBe(false);
    expect(counts.get('PutItemCommand') ?? 0).toBe(0);
  });

  it(`keeps the latest ${MAX_REJECTED_KEYS} keys of 1024 bytes in one item`, async () => {
    // Prepare
    const s = await provisionStores({ clients: stores.clients });
    const log = new DynamoRejectedKeyLog(s.clients.dynamodb, s.tableName);
    const long = (i: number) => `configs/x/${String(i).padStart(4, '0')}/${'\u0001'.repeat(1000)}`;

    // Act
    for (let batch = 0; batch < 3; batch++) {
      await log.record(Array.from({ length: 50 }, (_, i) => ({ key: long(batch * 50 + i), reason: 'control character', at: T0 + batch * 50 + i })));
    }

    // Assess
    const listed = await log.list();
    const item = await s.clients.dynamodb.send(new GetItemCommand({ TableName: s.tableName, Key: REJECTED_KEYS_KEY }));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThanOrEqual(MAX_REJECTED_KEYS);
    expect(listed[0]!.key).toBe(long(149).slice(0, 1024));
    expect(Buffer.byteLength(item.Item!.entries!.S!)).toBeLessThan(400_000);
  });
});
