import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mergeRejectedKeys } from '../../core/rejected-keys.js';
import type { RejectedKey } from '../../core/rejected-keys.js';
import type { RejectedKeyLog } from '../../ports/rejected-keys.js';
import { translateDynamoError } from './errors.js';
import { REJECTED_KEYS_KEY } from './table-schema.js';

/**
 * Concurrent ingest invocations may add at once; each re-reads and merges
 * again on a conflict, after a short random pause so that they spread out.
 */
const ATTEMPTS = 10;
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));

export class DynamoRejectedKeyLog implements RejectedKeyLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async record(entries: readonly RejectedKey[]): Promise<boolean> {
    if (entries.length === 0) return false;
    for (let attempt = 1; ; attempt++) {
      const { list: current, version } = await this.read();
      const { list, changed } = mergeRejectedKeys(current, entries);
      if (!changed) return false;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { ...REJECTED_KEYS_KEY, entries: { S: JSON.stringify(list) }, version: { N: String(version + 1) } },
            ConditionExpression: 'attribute_not_exists(pk) OR version = :version',
            ExpressionAttributeValues: { ':version': { N: String(version) } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException && attempt < ATTEMPTS) {
          await pause(attempt);
          continue;
        }
        translateDynamoError(error, 'PutItem');
      }
    }
  }

  async list(): Promise<RejectedKey[]> {
    return (await this.read()).list;
  }

  private async read(): Promise<{ list: RejectedKey[]; version: number }> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: REJECTED_KEYS_KEY, ConsistentRead: true })).catch((e) => translateDynamoError(e, 'GetItem'));
    const text = out.Item?.entries?.S;
    return { list: text ? (JSON.parse(text) as RejectedKey[]) : [], version: Number(out.Item?.version?.N ?? 0) };
  }
}
