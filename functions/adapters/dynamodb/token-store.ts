import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AgentTokenRecord, TokenStore } from '../../ports/token-store.js';
import { TokenExistsError } from '../../ports/errors.js';
import { translateDynamoError } from './errors.js';
import { queryPartition } from './query-pages.js';
import { AUTH_GENERATION_ATTRIBUTE, AUTH_PARTITION, CONTROL_KEY, tokenSortKey } from './table-schema.js';

/** Tokens live in one partition, read whole when a function instance revalidates its cache. */
export class DynamoTokenStore implements TokenStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Kept on the control item beside the fleet's generation, so one read revalidates both caches. */
  async generation(): Promise<string> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: CONTROL_KEY, ConsistentRead: true })).catch((e) => translateDynamoError(e, 'GetItem'));
    return out.Item?.[AUTH_GENERATION_ATTRIBUTE]?.N ?? '0';
  }

  async list(): Promise<AgentTokenRecord[]> {
    const tokens: AgentTokenRecord[] = [];
    for await (const item of queryPartition(this.client, { table: this.table, pk: AUTH_PARTITION, skPrefix: tokenSortKey('') })) {
      tokens.push({
        name: item.name?.S ?? '',
        sha256: item.sha256?.S ?? '',
        createdAt: Number(item.createdAt?.N ?? 0),
        ...(item.value?.S !== undefined ? { value: item.value.S } : {}),
        ...(item.replacedBy?.S !== undefined ? { replacedBy: item.replacedBy.S } : {}),
      });
    }
    return tokens;
  }

  async create(token: AgentTokenRecord): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...key(tokenSortKey(token.name)),
            name: { S: token.name },
            sha256: { S: token.sha256 },
            createdAt: { N: String(token.createdAt) },
            ...(token.value !== undefined ? { value: { S: token.value } } : {}),
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TokenExistsError(`a token named ${token.name} exists`);
      translateDynamoError(error, 'PutItem');
    }
    await this.bumpGeneration();
  }

  async revoke(name: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: key(tokenSortKey(name)), ConditionExpression: 'attribute_exists(sk)' }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      translateDynamoError(error, 'DeleteItem');
    }
    await this.bumpGeneration();
    return true;
  }

  async replace(name: string, replacement: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(tokenSortKey(name)),
          UpdateExpression: 'SET replacedBy = :replacement',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeValues: { ':replacement': { S: replacement } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      translateDynamoError(error, 'UpdateItem');
    }
    await this.bumpGeneration();
    return true;
  }

  private async bumpGeneration(): Promise<void> {
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: CONTROL_KEY,
          UpdateExpression: `ADD ${AUTH_GENERATION_ATTRIBUTE} :one`,
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      )
      .catch((e) => translateDynamoError(e, 'UpdateItem'));
  }
}

function key(sortKey: string): Record<string, AttributeValue> {
  return { pk: { S: AUTH_PARTITION }, sk: { S: sortKey } };
}
