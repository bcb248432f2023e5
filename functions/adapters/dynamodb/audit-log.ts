import { randomBytes } from 'node:crypto';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AUDIT_SOURCES, auditScan, auditSortKey, encodeAuditCursor, matchesAuditFilter, utcDay } from '../../core/audit.js';
import type { AuditDetail, AuditEntry, AuditFilter, AuditPage, AuditResult, AuditSource } from '../../core/audit.js';
import type { AuditLog } from '../../ports/audit-log.js';
import { translateDynamoError } from './errors.js';
import { auditPartition, TTL_ATTRIBUTE } from './table-schema.js';

type Item = Record<string, AttributeValue>;

/** Items one listing reads at most; past that it returns what it found and a cursor to go on from. */
const MAX_ITEMS_READ = 5000;
const PAGE_ITEMS = 200;

export interface DynamoAuditLogOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Entries are deleted by the table's TTL this many days after they were written. */
  retentionDays: number;
  now?: () => number;
}

/**
 * Audit entries in the one table, outside the fleet partition (which every
 * function instance reads whole): a partition per UTC day, sorted by time,
 * each item carrying the table's TTL attribute.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly now: () => number;

  constructor(private readonly options: DynamoAuditLogOptions) {
    this.now = options.now ?? Date.now;
  }

  async record(entry: AuditEntry): Promise<void> {
    const item: Item = {
      pk: { S: auditPartition(utcDay(entry.at)) },
      sk: { S: auditSortKey(entry.at, randomBytes(6).toString('hex')) },
      at: { N: String(entry.at) },
      principal: { S: entry.principal },
      source: { S: entry.source },
      action: { S: entry.action },
      target: { S: entry.target },
      result: { S: entry.result },
      [TTL_ATTRIBUTE]: { N: String(Math.floor(entry.at / 1000) + this.options.retentionDays * 86_400) },
      ...(entry.status !== undefined ? { status: { N: String(entry.status) } } : {}),
      ...(entry.message !== undefined ? { message: { S: entry.message } } : {}),
      ...(entry.detail !== undefined ? { detail: { S: JSON.stringify(entry.detail) } } : {}),
    };
    await this.options.client.send(new PutItemCommand({ TableName: this.options.tableName, Item: item })).catch((e) => translateDynamoError(e, 'PutItem'));
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const { days, before, from } = auditScan(filter, this.now(), this.options.retentionDays);
    const entries: AuditEntry[] = [];
    let read = 0;
    for (const day of days) {
      let startKey: Item | undefined;
      do {
        const out = await this.options.client
          .send(
            new QueryCommand({
              TableName: this.options.tableName,
              KeyConditionExpression: 'pk = :pk AND sk < :before',
              ExpressionAttributeValues: { ':pk': { S: auditPartition(day) }, ':before': { S: before } },
              ScanIndexForward: false,
              Limit: PAGE_ITEMS,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          )
          .catch((e) => translateDynamoError(e, 'Query'));
        for (const item of out.Items ?? []) {
          const sk = item.sk!.S!;
          if (sk < from) return { entries };
          read++;
          const entry = entryOf(item);
          if (matchesAuditFilter(entry, filter)) entries.push(entry);
          if (entries.length === filter.limit || read === MAX_ITEMS_READ) return { entries, next: encodeAuditCursor(sk) };
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
    }
    return { entries };
  }
}

function entryOf(item: Item): AuditEntry {
  const source = item.source?.S as AuditSource;
  return {
    at: Number(item.at?.N),
    principal: item.principal?.S ?? '',
    source: AUDIT_SOURCES.includes(source) ? source : 'api',
    action: item.action?.S ?? '',
    target: item.target?.S ?? '',
    result: (item.result?.S ?? 'ok') as AuditResult,
    ...(item.status?.N !== undefined ? { status: Number(item.status.N) } : {}),
    ...(item.message?.S !== undefined ? { message: item.message.S } : {}),
    ...(item.detail?.S !== undefined ? { detail: JSON.parse(item.detail.S) as AuditDetail } : {}),
  };
}
