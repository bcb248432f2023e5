import { expect } from 'vitest';
import type { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { storedRecords } from './support.js';

/** What the agent endpoint may answer to anything an agent sends: never 500, never another 5xx. */
export const EDGE_STATUSES = [200, 400, 413, 415];

/** Settles `work` or fails once `ms` have passed: a request that hangs fails the property. */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a request could have written to the store. */
export async function storeContent(agents: MemoryAgentStore): Promise<{ records: number; sections: number }> {
  return { records: (await storedRecords(agents)).length, sections: agents.sectionCount };
}

/** The edge property for one answer: an expected status, and nothing written unless the request was accepted. */
export async function expectEdgeAnswer(response: Response, agents: MemoryAgentStore): Promise<void> {
  expect(EDGE_STATUSES).toContain(response.status);
  await response.arrayBuffer();
  if (response.status !== 200) expect(await storeContent(agents)).toEqual({ records: 0, sections: 0 });
}

/** Counts property runs per name and prints them when asked, so that the figures can be reported. */
export class RunCounter {
  private readonly counts = new Map<string, number>();

  count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  print(file: string): void {
    const figures = [...this.counts].map(([name, n]) => `${name}: ${n}`).join(', ');
    console.log(`fuzz runs (${file}): ${figures}`);
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A length-delimited protobuf field. */
export function lengthField(field: number, bytes: Uint8Array): Uint8Array {
  return new Uint8Array([...varint((field << 3) | 2), ...varint(bytes.length), ...bytes]);
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * An AnyValue nested `depth` times (kvlist_value holding one KeyValue "k"
 * whose value is the next level), around a string leaf. Written with
 * precomputed lengths from the outside in, so that depths in the hundred
 * thousands take linear time, as an attacker's generator would.
 */
export function nestedAnyValue(depth: number): Uint8Array {
  const leaf = [0x0a, 0x04, ...Buffer.from('leaf')];
  const prefixes: number[][] = [];
  let inner = leaf.length;
  for (let level = 0; level < depth; level += 1) {
    const keyValue = 3 + 1 + varint(inner).length + inner; // key "k" (field 1) + value (field 2)
    const list = 1 + varint(keyValue).length + keyValue; // KeyValueList.values (field 1)
    prefixes.push([0x32, ...varint(list), 0x0a, ...varint(keyValue), 0x0a, 0x01, 0x6b, 0x12, ...varint(inner)]);
    inner = 1 + varint(list).length + list; // AnyValue.kvlist_value (field 6)
  }
  const out = new Uint8Array(inner);
  let at = 0;
  for (let level = prefixes.length - 1; level >= 0; level -= 1) {
    out.set(prefixes[level]!, at);
    at += prefixes[level]!.length;
  }
  out.set(leaf, at);
  return out;
}

/** An AgentToServer (uid, sequence 0) whose description holds one identifying attribute `key` = `value` (an encoded AnyValue). */
export function withAttribute(uid: Uint8Array, key: Uint8Array, value: Uint8Array): Uint8Array<ArrayBuffer> {
  const keyValue = concat(lengthField(1, key), lengthField(2, value));
  return concat(lengthField(1, uid), lengthField(3, lengthField(1, keyValue)));
}
