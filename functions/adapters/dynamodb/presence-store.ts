import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { decodePresence, encodePresence } from '../../core/presence.js';
import type { PresenceEntry } from '../../core/presence.js';
import { windowStartOf } from '../../ports/presence-store.js';
import type { PresenceBatch, PresenceStore } from '../../ports/presence-store.js';
import { translateDynamoError } from './errors.js';
import { queryPartition } from './query-pages.js';
import { TTL_ATTRIBUTE, presencePartition, presenceSortKey } from './table-schema.js';

/**
 * Presence batches as items: one partition per window, one item per batch.
 * The entries are one binary attribute (see encodePresence), so an item costs
 * a write unit per KB of agents, not per agent.
 */
export class DynamoPresenceStore implements PresenceStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async write(batch: PresenceBatch, windowMs: number, expiresAtSeconds: number): Promise<void> {
    const { baseSeconds, bytes } = encodePresence(batch.entries);
    await this.client
      .send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: presencePartition(windowStartOf(batch.flushedAt, windowMs)) },
            sk: { S: presenceSortKey(batch.instanceId, batch.sequence) },
            base: { N: String(baseSeconds) },
            agents: { B: bytes },
            [TTL_ATTRIBUTE]: { N: String(expiresAtSeconds) },
          },
        }),
      )
      .catch((e) => translateDynamoError(e, 'PutItem'));
  }

  async readWindow(windowStart: number): Promise<PresenceEntry[]> {
    const entries: PresenceEntry[] = [];
    // Eventually consistent: a batch a moment old is as good, at half the price.
    for await (const item of queryPartition(this.client, { table: this.table, pk: presencePartition(windowStart), consistent: false })) {
      const bytes = item.agents?.B;
      if (!bytes) continue;
      entries.push(...decodePresence(Number(item.base?.N ?? 0), bytes));
    }
    return entries;
  }
}
