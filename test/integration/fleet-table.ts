import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../functions/local/provision.js';
import { uniqueName } from './harness.js';

/**
 * A fresh table, once it is ACTIVE. Fleet metadata lives in one partition that
 * load() reads whole, so tests that compare loads need a table of their own;
 * dynalite reports a new table CREATING for a moment, and writes to it fail
 * until it is ACTIVE.
 */
export async function freshTable(client: DynamoDBClient, prefix = 'fleet'): Promise<string> {
  const tableName = uniqueName(prefix);
  await ensureTable(client, tableName);
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return tableName;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
