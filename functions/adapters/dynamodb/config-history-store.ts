import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConfigVersion, ConfigVersionFile } from '../../core/config-history.js';
import type { ConfigHistoryPage, ConfigHistoryStore } from '../../ports/config-history-store.js';
import { translateDynamoError } from './errors.js';
import { CONFIG_VERSION_PREFIX, configHashSortKey, configHistoryPartition, configVersionSortKey } from './table-schema.js';

type Item = Record<string, AttributeValue>;

/** Concurrent ingests of one configuration: the one that loses a sequence number reads the newest again. */
const ATTEMPTS = 10;

/**
 * Versions as items `v#<sequence>` in the configuration's own partition: the
 * next sequence number is taken with a conditional put, so two writers never
 * share one, and a query in reverse order reads the newest first. An `h#<hash>`
 * item beside them finds a version by its hash with one read.
 */
export class DynamoConfigHistoryStore implements ConfigHistoryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async record(version: ConfigVersion): Promise<boolean> {
    const pk = configHistoryPartition(version.configName);
    for (let attempt = 1; ; attempt++) {
      const newest = (await this.query(pk, 1)).items[0];
      if (newest?.hash?.S === version.hash) return false;
      const sequence = Number(newest?.sequence?.N ?? 0) + 1;
      const attributes = versionAttributes(version, sequence);
      // The hash item first: a version that is listed can always be found by its hash.
      await this.client
        .send(new PutItemCommand({ TableName: this.table, Item: { pk: { S: pk }, sk: { S: configHashSortKey(version.hash) }, ...attributes } }))
        .catch((e) => translateDynamoError(e, 'PutItem'));
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { pk: { S: pk }, sk: { S: configVersionSortKey(sequence) }, ...attributes },
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) translateDynamoError(error, 'PutItem');
        if (attempt >= ATTEMPTS) throw new Error(`configuration ${version.configName}: history kept changing during ${ATTEMPTS} attempts to record ${version.hash}`);
      }
    }
  }

  async list(configName: string, options: { limit: number; before?: string | undefined }): Promise<ConfigHistoryPage> {
    const before = options.before === undefined ? undefined : Number.parseInt(options.before, 10);
    if (before !== undefined && before <= 1) return { versions: [] };
    const { items } = await this.query(configHistoryPartition(configName), options.limit + 1, before);
    const page = items.slice(0, options.limit);
    const last = page.at(-1);
    return { versions: page.map(itemToVersion), ...(items.length > options.limit && last ? { next: last.sequence!.N! } : {}) };
  }

  async get(configName: string, hash: string): Promise<ConfigVersion | undefined> {
    const out = await this.client
      .send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: configHistoryPartition(configName) }, sk: { S: configHashSortKey(hash) } }, ConsistentRead: true }))
      .catch((e) => translateDynamoError(e, 'GetItem'));
    return out.Item ? itemToVersion(out.Item) : undefined;
  }

  /** Version items, newest first, below sequence `before` when given. */
  private async query(pk: string, limit: number, before?: number): Promise<{ items: Item[] }> {
    const bounded = before !== undefined;
    const out = await this.client
      .send(
        new QueryCommand({
          TableName: this.table,
          ConsistentRead: true,
          ScanIndexForward: false,
          Limit: limit,
          KeyConditionExpression: bounded ? 'pk = :pk AND sk BETWEEN :low AND :high' : 'pk = :pk AND begins_with(sk, :low)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':low': { S: CONFIG_VERSION_PREFIX }, ...(bounded ? { ':high': { S: configVersionSortKey(before - 1) } } : {}) },
        }),
      )
      .catch((e) => translateDynamoError(e, 'Query'));
    return { items: out.Items ?? [] };
  }
}

function versionAttributes(version: ConfigVersion, sequence: number): Item {
  return {
    configName: { S: version.configName },
    hash: { S: version.hash },
    recordedAt: { N: String(version.recordedAt) },
    sequence: { N: String(sequence) },
    files: { S: JSON.stringify(version.files) },
    ...(version.principal !== undefined ? { principal: { S: version.principal } } : {}),
  };
}

function itemToVersion(item: Item): ConfigVersion {
  return {
    configName: item.configName?.S ?? '',
    hash: item.hash?.S ?? '',
    recordedAt: Number(item.recordedAt?.N ?? 0),
    ...(item.principal?.S !== undefined ? { principal: item.principal.S } : {}),
    files: JSON.parse(item.files?.S ?? '[]') as ConfigVersionFile[],
  };
}
