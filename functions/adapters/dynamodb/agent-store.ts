import { BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, DescribeTableCommand, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { AGENT_STATE_PREFIX } from '../../core/bucket-layout.js';
import type { AgentRecord } from '../../core/agent-record.js';
import type { RecordWrite, SectionWrite } from '../../core/poll-types.js';
import type { SectionKind, SectionRef } from '../../core/sections.js';
import type { AgentListQuery, AgentPage, AgentStore, ControlGenerations, StoredSection } from '../../ports/agent-store.js';
import type { BlobStore } from '../../ports/blob-store.js';
import { InvalidCursorError, StoreUnavailableError, WriteConflictError } from '../../ports/errors.js';
import { itemToRecord, recordToItem } from './agent-item.js';
import { translateDynamoError } from './errors.js';
import { queryPartition } from './query-pages.js';
import { AGENT_STATE_SORT_KEY, AUTH_GENERATION_ATTRIBUTE, CONTROL_KEY, FLEET_GENERATION_ATTRIBUTE, TTL_ATTRIBUTE, agentKey, inboxSortKey, sectionSortKey } from './table-schema.js';
import type { ReceivedMessage } from '../../core/agent-commands.js';

export interface DynamoAgentStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Where sections too large for an item go, by content id. */
  blobs: BlobStore;
  /** Sections above this many bytes are stored in `blobs` (DynamoDB items stop at 400 KB). */
  inlineSectionLimitBytes?: number;
}

const DEFAULT_INLINE_SECTION_LIMIT = 350 * 1024;
/** Messages from agents are kept at most this long (and at most the last few). */
const INBOX_RETENTION_SECONDS = 30 * 86_400;
const BATCH_WRITE_ATTEMPTS = 4;

export class DynamoAgentStore implements AgentStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly blobs: BlobStore;
  private readonly inlineLimit: number;

  constructor(options: DynamoAgentStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.blobs = options.blobs;
    this.inlineLimit = options.inlineSectionLimitBytes ?? DEFAULT_INLINE_SECTION_LIMIT;
  }

  async get(instanceUid: string): Promise<AgentRecord | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: stateKey(instanceUid), ConsistentRead: true })).catch((e) => translateDynamoError(e, 'GetItem'));
    return out.Item ? itemToRecord(out.Item, instanceUid) : undefined;
  }

  async getWithGenerations(instanceUid: string): Promise<{ record: AgentRecord | undefined; generations: ControlGenerations }> {
    const keys = [stateKey(instanceUid), CONTROL_KEY];
    const found: Record<string, AttributeValue>[] = [];
    let pending: Record<string, AttributeValue>[] = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_WRITE_ATTEMPTS) throw new StoreUnavailableError('dynamodb', `BatchGetItem left ${pending.length} keys unprocessed`);
      const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } })).catch((e) => translateDynamoError(e, 'BatchGetItem'));
      found.push(...(out.Responses?.[this.table] ?? []));
      pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, AttributeValue>[];
      if (pending.length > 0) await sleep(25 * 2 ** attempt);
    }
    const state = found.find((item) => item.sk?.S === AGENT_STATE_SORT_KEY);
    const control = found.find((item) => item.pk?.S === CONTROL_KEY.pk.S && item.sk?.S === CONTROL_KEY.sk.S);
    return {
      record: state ? itemToRecord(state, instanceUid) : undefined,
      generations: {
        fleet: control?.[FLEET_GENERATION_ATTRIBUTE]?.N ?? '0',
        auth: control?.[AUTH_GENERATION_ATTRIBUTE]?.N ?? '0',
      },
    };
  }

  /**
   * The version condition is the whole concurrency story: a write succeeds only
   * if nobody wrote since this poll read the record, so no update is lost
   * without transactions.
   */
  async put({ record, expectedVersion }: RecordWrite): Promise<void> {
    const condition =
      expectedVersion === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: recordToItem(record), ...condition }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new WriteConflictError(record.instanceUid, expectedVersion, { cause: error });
      }
      translateDynamoError(error, 'PutItem');
    }
  }

  async writeSections(puts: readonly SectionWrite[], deletes: ReadonlyArray<SectionRef & { instanceUid: string }> = []): Promise<void> {
    if (puts.length === 0 && deletes.length === 0) return;
    const requests: WriteRequest[] = deletes.map((ref) => ({
      DeleteRequest: { Key: { pk: { S: agentKey(ref.instanceUid) }, sk: { S: sectionSortKey(ref.kind, ref.id) } } },
    }));
    for (const { instanceUid, id, content } of puts) {
      const item: Record<string, AttributeValue> = {
        pk: { S: agentKey(instanceUid) },
        sk: { S: sectionSortKey(content.kind, id) },
        kind: { S: content.kind },
        hash: { S: content.hash },
      };
      if (content.bytes.length > this.inlineLimit) {
        const key = sectionBlobKey(content.kind, content.hash);
        await this.blobs.put(key, content.bytes, 'application/x-protobuf');
        item.blobKey = { S: key };
      } else {
        item.body = { B: content.bytes };
      }
      requests.push({ PutRequest: { Item: item } });
    }
    await this.batchWrite(requests);
  }

  async copySections(from: string, to: string, sections: readonly SectionRef[]): Promise<void> {
    const wanted = new Set(sections.map((ref) => sectionSortKey(ref.kind, ref.id)));
    const requests: WriteRequest[] = [];
    // Inline sections reach 350 KB each, so they can span several 1 MB query pages.
    for await (const item of queryPartition(this.client, { table: this.table, pk: agentKey(from), skPrefix: 'section#' })) {
      if (wanted.has(item.sk?.S ?? '')) requests.push({ PutRequest: { Item: { ...item, pk: { S: agentKey(to) } } } });
    }
    await this.batchWrite(requests);
  }

  async getSection(instanceUid: string, { kind, id }: SectionRef): Promise<StoredSection | undefined> {
    const out = await this.client
      .send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: { S: agentKey(instanceUid) }, sk: { S: sectionSortKey(kind, id) } },
        }),
      )
      .catch((e) => translateDynamoError(e, 'GetItem'));
    const item = out.Item;
    if (!item?.hash?.S) return undefined;
    const bytes = item.body?.B ?? (item.blobKey?.S ? await this.blobs.get(item.blobKey.S) : undefined);
    return bytes ? { kind, hash: item.hash.S, bytes } : undefined;
  }

  /**
   * A scan filtered to agent records: listing is an operator action, rare next
   * to polls, so it pays for itself instead of every poll paying for an index.
   */
  async list({ limit, cursor, where }: AgentListQuery): Promise<AgentPage> {
    const records: AgentRecord[] = [];
    let startKey = cursor ? decodeCursor(cursor) : undefined;
    do {
      const out = await this.client
        .send(
          new ScanCommand({
            TableName: this.table,
            FilterExpression: 'sk = :state AND attribute_not_exists(movedTo)',
            ExpressionAttributeValues: { ':state': { S: AGENT_STATE_SORT_KEY } },
            Limit: Math.max(limit * 4, 100),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        )
        .catch((e) => translateDynamoError(e, 'Scan'));
      for (const item of out.Items ?? []) {
        if (records.length === limit) {
          // This page is full: resume from the last item that made it in.
          return { records, cursor: encodeCursor(keyOf(records.at(-1)!)) };
        }
        const record = itemToRecord(item, uidOfKey(item.pk?.S ?? ''));
        if (!where || where(record)) records.push(record);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey && records.length < limit);
    // The page filled as a scan page ended: resume after its last record. The scan's own
    // last key may be any item (a section, a presence batch), which is no cursor.
    return startKey ? { records, cursor: encodeCursor(keyOf(records.at(-1)!)) } : { records };
  }

  async appendInbox(instanceUid: string, index: number, message: ReceivedMessage, keep: number): Promise<void> {
    const pk = { S: agentKey(instanceUid) };
    const requests: WriteRequest[] = [
      {
        PutRequest: {
          Item: {
            pk,
            sk: { S: inboxSortKey(index) },
            capability: { S: message.capability },
            type: { S: message.type },
            data: { B: Buffer.from(message.data, 'base64') },
            truncated: { BOOL: message.truncated },
            receivedAt: { N: String(message.receivedAt) },
            [TTL_ATTRIBUTE]: { N: String(Math.floor(message.receivedAt / 1000) + INBOX_RETENTION_SECONDS) },
          },
        },
      },
    ];
    if (index > keep) requests.push({ DeleteRequest: { Key: { pk, sk: { S: inboxSortKey(index - keep) } } } });
    await this.batchWrite(requests);
  }

  async listInbox(instanceUid: string): Promise<ReceivedMessage[]> {
    const out = await this.client
      .send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: agentKey(instanceUid) }, ':prefix': { S: 'inbox#' } },
          ScanIndexForward: false,
        }),
      )
      .catch((e) => translateDynamoError(e, 'Query'));
    return (out.Items ?? []).map((item) => ({
      capability: item.capability?.S ?? '',
      type: item.type?.S ?? '',
      data: Buffer.from(item.data?.B ?? new Uint8Array()).toString('base64'),
      truncated: item.truncated?.BOOL ?? false,
      receivedAt: Number(item.receivedAt?.N ?? 0),
    }));
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.table })).catch((e) => translateDynamoError(e, 'DescribeTable'));
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > BATCH_WRITE_ATTEMPTS) {
          throw new StoreUnavailableError('dynamodb', `BatchWriteItem left ${pending.length} items unprocessed`);
        }
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })).catch((e) => translateDynamoError(e, 'BatchWriteItem'));
        pending = out.UnprocessedItems?.[this.table] ?? [];
        if (pending.length > 0) await sleep(25 * 2 ** attempt);
      }
    }
  }
}

function stateKey(instanceUid: string): Record<string, AttributeValue> {
  return { pk: { S: agentKey(instanceUid) }, sk: { S: AGENT_STATE_SORT_KEY } };
}

function keyOf(record: AgentRecord): Record<string, AttributeValue> {
  return stateKey(record.instanceUid);
}

function uidOfKey(pk: string): string {
  return pk.slice(pk.indexOf('#') + 1);
}

export function sectionBlobKey(kind: SectionKind, hash: string): string {
  return `${AGENT_STATE_PREFIX}${kind}/${hash}.binpb`;
}

function encodeCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify({ pk: key.pk?.S, sk: key.sk?.S })).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, AttributeValue> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const key = parsed as { pk?: unknown; sk?: unknown } | undefined;
  if (typeof key?.pk !== 'string' || !key.pk.startsWith(agentKey('')) || key.pk.length === agentKey('').length || key.sk !== AGENT_STATE_SORT_KEY) {
    throw new InvalidCursorError();
  }
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
