import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { translateDynamoError } from './errors.js';

type Item = Record<string, AttributeValue>;

export interface PartitionQuery {
  table: string;
  pk: string;
  /** Only sort keys that start with this. */
  skPrefix?: string | undefined;
  /** Strongly consistent (default), or eventually consistent at half the price. */
  consistent?: boolean | undefined;
}

/** Every item of one partition (or of one sort key prefix in it), page after page. */
export async function* queryPartition(client: DynamoDBClient, query: PartitionQuery): AsyncGenerator<Item> {
  const prefixed = query.skPrefix !== undefined;
  let startKey: Item | undefined;
  do {
    const out = await client
      .send(
        new QueryCommand({
          TableName: query.table,
          ConsistentRead: query.consistent ?? true,
          KeyConditionExpression: prefixed ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: query.pk }, ...(prefixed ? { ':prefix': { S: query.skPrefix! } } : {}) },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      )
      .catch((e) => translateDynamoError(e, 'Query'));
    yield* out.Items ?? [];
    startKey = out.LastEvaluatedKey;
  } while (startKey);
}
