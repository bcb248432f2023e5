// Counting what the app does: SDK calls per service and command (client
// middleware), DynamoDB capacity units, and bytes written to stdout/stderr.
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

export const DDB_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'DescribeTable']);
export const DDB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** Commands that accept ReturnConsumedCapacity (DescribeTable is a control-plane call: no capacity). */
const CAPACITY_COMMANDS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

type Item = Record<string, AttributeValue>;

/** DynamoDB's item size: attribute name bytes plus value bytes (rules from the DynamoDB developer guide). */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.BS !== undefined) return v.BS.reduce((s, x) => s + x.byteLength, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueSize(x), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueSize(x), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace(/\./, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** Read units for one item read: 4 KB units; strongly consistent 1 per unit, eventually consistent 0.5. */
export function readUnits(bytes: number, consistent: boolean): number {
  return Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
}

/** Write units for one item write: 1 KB units. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

export interface MeterSnapshot {
  ddb: Map<string, number>;
  ddbByTarget: Map<string, number>;
  s3: Map<string, number>;
  rcuByTarget: Map<string, number>;
  rcu: number;
  wcu: number;
  capacityReported: number;
  capacityComputed: number;
  ddbReads: number;
  ddbWrites: number;
  s3Calls: number;
  revalidationReads: number;
}

export class CallMeter {
  enabled = false;
  readonly ddb = new Map<string, number>();
  /** DynamoDB calls by command and partition kind (agent, fleet, auth). */
  readonly ddbByTarget = new Map<string, number>();
  readonly s3 = new Map<string, number>();
  rcu = 0;
  wcu = 0;
  /** Read units by partition kind (agent, fleet, auth). */
  readonly rcuByTarget = new Map<string, number>();
  /** Calls whose capacity DynamoDB (dynalite) reported, and calls where it was computed from item sizes. */
  capacityReported = 0;
  capacityComputed = 0;

  reset(): void {
    this.ddb.clear();
    this.ddbByTarget.clear();
    this.s3.clear();
    this.rcuByTarget.clear();
    this.rcu = this.wcu = this.capacityReported = this.capacityComputed = 0;
  }

  /** A copy of the counters, so that later calls (the floor measurement) cannot change them. */
  snapshot(): MeterSnapshot {
    return {
      ddb: new Map(this.ddb),
      ddbByTarget: new Map(this.ddbByTarget),
      s3: new Map(this.s3),
      rcuByTarget: new Map(this.rcuByTarget),
      rcu: this.rcu,
      wcu: this.wcu,
      capacityReported: this.capacityReported,
      capacityComputed: this.capacityComputed,
      ddbReads: this.ddbReads,
      ddbWrites: this.ddbWrites,
      s3Calls: this.s3Calls,
      revalidationReads: this.revalidationReads,
    };
  }

  get ddbReads(): number {
    return sumWhere(this.ddb, (c) => DDB_READS.has(c));
  }

  get ddbWrites(): number {
    return sumWhere(this.ddb, (c) => DDB_WRITES.has(c));
  }

  /** Every metered call so far (DynamoDB and S3). */
  get totalCalls(): number {
    return sumWhere(this.ddb, () => true) + this.s3Calls;
  }

  get s3Calls(): number {
    return sumWhere(this.s3, () => true);
  }

  /** Reads of the per-instance caches' generation items and reloads (fleet state, agent tokens). */
  get revalidationReads(): number {
    return sumWhere(this.ddbByTarget, (k) => DDB_READS.has(k.split(':')[0]!) && !k.endsWith(':agent'));
  }

  attachDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.enabled) return next(args);
        const command = String((context as { commandName?: string }).commandName ?? 'Unknown').replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        bump(this.ddb, command);
        bump(this.ddbByTarget, `${command}:${targetOf(input)}`);
        const metered = CAPACITY_COMMANDS.has(command);
        try {
          const result = await next(metered ? { ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } } : args);
          if (metered) {
            const rcuBefore = this.rcu;
            this.addCapacity(command, input, result.output as unknown as Record<string, unknown>);
            if (this.rcu !== rcuBefore) bump(this.rcuByTarget, targetOf(input), this.rcu - rcuBefore);
          }
          return result;
        } catch (error) {
          // A failed conditional write is billed too; DynamoDB returns no capacity with the error.
          if (metered && DDB_WRITES.has(command)) {
            this.wcu += computedWriteUnits(command, input);
            this.capacityComputed++;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchCallMeter', override: true },
    );
  }

  attachS3(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.enabled) bump(this.s3, String((context as { commandName?: string }).commandName ?? 'Unknown').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'benchCallMeter', override: true },
    );
  }

  private addCapacity(command: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
    const consumed = output.ConsumedCapacity as { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;
    const units = Array.isArray(consumed) ? consumed.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) : consumed?.CapacityUnits;
    const isRead = DDB_READS.has(command);
    if (units !== undefined) {
      this.capacityReported++;
      if (isRead) this.rcu += units;
      else this.wcu += units;
      return;
    }
    this.capacityComputed++;
    if (isRead) {
      const consistent = input.ConsistentRead === true;
      const items: Item[] = command === 'GetItem' ? (output.Item ? [output.Item as Item] : []) : ((output.Items as Item[] | undefined) ?? []);
      if (command === 'GetItem') this.rcu += readUnits(items[0] ? itemSize(items[0]) : 0, consistent);
      else
        this.rcu += readUnits(
          items.reduce((s, i) => s + itemSize(i), 0),
          consistent,
        );
    } else {
      this.wcu += computedWriteUnits(command, input);
    }
  }
}

function computedWriteUnits(command: string, input: Record<string, unknown>): number {
  if (command === 'PutItem') return writeUnits(itemSize(input.Item as Item));
  if (command === 'BatchWriteItem') {
    const requests = Object.values(input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item } }>>).flat();
    return requests.reduce((s, r) => s + writeUnits(r.PutRequest ? itemSize(r.PutRequest.Item) : 0), 0);
  }
  return 1;
}

function targetOf(input: Record<string, unknown>): string {
  const batch = input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>> | undefined;
  const first = batch ? Object.values(batch)[0]?.[0] : undefined;
  const key =
    (first?.PutRequest?.Item ?? first?.DeleteRequest?.Key)?.pk?.S ??
    (input.Key as Item | undefined)?.pk?.S ??
    (input.ExpressionAttributeValues as Item | undefined)?.[':pk']?.S ??
    (input.Item as Item | undefined)?.pk?.S;
  if (!key) return 'other';
  if (key.startsWith('agent#')) return 'agent';
  if (key.startsWith('presence#')) return 'presence';
  return key;
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function sumWhere(map: Map<string, number>, keep: (key: string) => boolean): number {
  let total = 0;
  for (const [k, v] of map) if (keep(k)) total += v;
  return total;
}

/**
 * Swallows everything written to stdout/stderr while the app runs (log lines
 * and EMF documents, which the Lambda runtime ships to CloudWatch Logs), and
 * counts it while measuring.
 */
export class LogMeter {
  /** Swallow output (during every app invocation, warm-up included). */
  capturing = false;
  /** Count what is swallowed (measured polls only). */
  counting = false;
  bytes = 0;
  lines = 0;
  emfDocuments = 0;
  emfBytes = 0;
  readonly samples: string[] = [];
  /** Metric names the EMF documents carried (CloudWatch bills each custom metric per month). */
  readonly metricNames = new Set<string>();
  private restore: (() => void) | undefined;

  reset(): void {
    this.bytes = this.lines = this.emfDocuments = this.emfBytes = 0;
    this.samples.length = 0;
    this.metricNames.clear();
  }

  install(): void {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((s) => s.write);
    streams.forEach((stream, i) => {
      const original = originals[i]!;
      stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
        if (!this.capturing) return original.call(stream, chunk as never, encoding as never, callback as never);
        if (this.counting) this.note(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') process.nextTick(done as () => void);
        return true;
      }) as typeof stream.write;
    });
    this.restore = () =>
      streams.forEach((stream, i) => {
        stream.write = originals[i]!;
      });
  }

  uninstall(): void {
    this.restore?.();
  }

  private noteMetrics(line: string): void {
    try {
      const doc = JSON.parse(line) as { _aws?: { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string }> }> } };
      for (const group of doc._aws?.CloudWatchMetrics ?? []) for (const m of group.Metrics ?? []) this.metricNames.add(m.Name);
    } catch {
      // Not JSON after all: counted as bytes only.
    }
  }

  private note(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.bytes += bytes;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      if (line.includes('"_aws"')) {
        this.emfDocuments++;
        this.emfBytes += Buffer.byteLength(line) + 1;
        this.noteMetrics(line);
      } else {
        this.lines++;
        if (this.samples.length < 3) this.samples.push(line.length > 300 ? `${line.slice(0, 300)}...` : line);
      }
    }
  }
}
