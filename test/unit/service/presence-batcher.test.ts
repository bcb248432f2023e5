import { describe, expect, it } from 'vitest';
import { MemoryPresenceStore } from '../../../functions/adapters/memory/presence-store.js';
import { presenceKey } from '../../../functions/core/presence.js';
import type { PresenceEntry } from '../../../functions/core/presence.js';
import type { PresenceBatch } from '../../../functions/ports/presence-store.js';
import { StoreUnavailableError } from '../../../functions/ports/errors.js';
import { PresenceBatcher } from '../../../functions/service/presence-batcher.js';
import type { PresenceBatcherOptions } from '../../../functions/service/presence-batcher.js';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A memory store that keeps every batch as written and fails the next `failures` writes. */
class RecordingStore extends MemoryPresenceStore {
  readonly batches: PresenceBatch[] = [];
  failures = 0;

  override async write(batch: PresenceBatch, windowMs: number): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new StoreUnavailableError('dynamodb', 'DynamoDB PutItem failed: ThrottlingException');
    }
    this.batches.push(batch);
    return super.write(batch, windowMs);
  }

  entries(): PresenceEntry[] {
    return this.batches.flatMap((b) => b.entries);
  }
}

function uid(i: number): string {
  const hex = i.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function setup(overrides: Partial<PresenceBatcherOptions> = {}) {
  const clock = { now: T0 };
  const store = new RecordingStore();
  const batcher = new PresenceBatcher({
    store,
    now: () => clock.now,
    windowMs: MINUTE,
    maxHoldMs: 5 * MINUTE,
    maxEntriesPerItem: 1000,
    maxBufferedEntries: 10_000,
    retentionSeconds: 3600,
    retryAfterMs: 10 * SECOND,
    instanceId: 'instance-a',
    ...overrides,
  });
  return { clock, store, batcher };
}

describe('PresenceBatcher', () => {
  it('writes every agent answered in a window as one batch, when the window has passed', async () => {
    // Prepare
    const { clock, store, batcher } = setup();
    for (let i = 0; i < 50; i++) batcher.seen(uid(i), T0 + i * SECOND);

    // Act
    clock.now = T0 + MINUTE - 1;
    const early = await batcher.flushIfDue();
    clock.now = T0 + MINUTE;
    const due = await batcher.flushIfDue();

    // Assess
    expect(early).toBeUndefined();
    expect(due).toEqual({ written: 50, items: 1, kept: 0, dropped: 0 });
    expect(store.batches).toHaveLength(1);
    expect(
      store
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(Array.from({ length: 50 }, (_, i) => presenceKey(uid(i))).sort());
    expect(batcher.pending).toBe(0);
  });

  it('keeps one entry per agent per batch: the latest poll', async () => {
    const { clock, store, batcher } = setup();
    batcher.seen(uid(1), T0);
    batcher.seen(uid(1), T0 + 30 * SECOND);

    clock.now = T0 + MINUTE;
    await batcher.flushIfDue();

    expect(store.entries()).toEqual([{ key: presenceKey(uid(1)), seenAt: T0 + 30 * SECOND, intervalSeconds: 30 }]);
  });

  it('lets an agent steered to a long interval wait up to that interval (at most the longest hold)', async () => {
    // Prepare
    const { clock, store, batcher } = setup();
    batcher.seen(uid(1), T0, 300);
    batcher.seen(uid(2), T0, 3600);

    // Act / Assess
    clock.now = T0 + 300 * SECOND - 1;
    expect(await batcher.flushIfDue()).toBeUndefined();
    clock.now = T0 + 300 * SECOND;
    expect((await batcher.flushIfDue())?.written).toBe(2);
    expect(
      store
        .entries()
        .map((e) => e.intervalSeconds)
        .sort((a, b) => a - b),
    ).toEqual([300, 3600]);
  });

  it('writes as soon as a batch is full, and splits what does not fit one item', async () => {
    // Prepare
    const { store, batcher } = setup({ maxEntriesPerItem: 3 });
    batcher.seen(uid(1), T0);
    batcher.seen(uid(2), T0);
    expect(batcher.due()).toBe(false);
    batcher.seen(uid(3), T0);
    expect(batcher.due()).toBe(true);
    for (let i = 4; i <= 7; i++) batcher.seen(uid(i), T0);

    // Act
    const outcome = await batcher.flushIfDue();

    // Assess
    expect(outcome).toEqual({ written: 7, items: 3, kept: 0, dropped: 0 });
    expect(store.batches.map((b) => b.entries.length)).toEqual([3, 3, 1]);
    expect(new Set(store.batches.map((b) => b.sequence)).size).toBe(3);
  });

  it('writes everything waiting on shutdown, due or not', async () => {
    const { store, batcher } = setup();
    batcher.seen(uid(1), T0);

    const outcome = await batcher.flush();

    expect(outcome.written).toBe(1);
    expect(store.entries()[0]?.key).toBe(presenceKey(uid(1)));
  });

  it('keeps what a failed write held, does not retry before the retry delay, and writes it then', async () => {
    // Prepare
    const { clock, store, batcher } = setup();
    batcher.seen(uid(1), T0);
    batcher.seen(uid(2), T0);
    store.failures = 1;
    clock.now = T0 + MINUTE;

    // Act
    const failed = await batcher.flushIfDue();
    batcher.seen(uid(2), T0 + MINUTE + SECOND);
    clock.now = T0 + MINUTE + 10 * SECOND - 1;
    const tooSoon = await batcher.flushIfDue();
    clock.now = T0 + MINUTE + 10 * SECOND;
    const retried = await batcher.flushIfDue();

    // Assess
    expect(failed).toEqual({ written: 0, items: 0, kept: 2, dropped: 0 });
    expect(tooSoon).toBeUndefined();
    expect(retried?.written).toBe(2);
    // The sighting that came in after the failure is newer and wins.
    expect(store.entries().find((e) => e.key === presenceKey(uid(2)))?.seenAt).toBe(T0 + MINUTE + SECOND);
    expect(batcher.stats.failures).toBe(1);
  });

  it('keeps only the unwritten part when a split batch fails half way', async () => {
    const { store, batcher } = setup({ maxEntriesPerItem: 2 });
    for (let i = 1; i <= 5; i++) batcher.seen(uid(i), T0);
    const original = store.write.bind(store);
    let calls = 0;
    store.write = async (batch, windowMs) => {
      if (++calls === 2) throw new StoreUnavailableError('dynamodb', 'DynamoDB PutItem failed: ThrottlingException');
      return original(batch, windowMs);
    };

    const outcome = await batcher.flush();

    expect(outcome).toEqual({ written: 2, items: 1, kept: 3, dropped: 0 });
    expect(batcher.pending).toBe(3);
  });

  it('keeps at most maxBufferedEntries after failed writes, dropping the longest-waiting', async () => {
    // Prepare
    const { clock, store, batcher } = setup({ maxBufferedEntries: 5 });
    for (let i = 1; i <= 5; i++) batcher.seen(uid(i), T0 + i);
    store.failures = 10;
    clock.now = T0 + MINUTE;
    await batcher.flushIfDue();

    // Act: more agents arrive while the store is down.
    for (let i = 6; i <= 8; i++) batcher.seen(uid(i), T0 + MINUTE + i);
    store.failures = 0;
    clock.now = T0 + 2 * MINUTE;
    await batcher.flushIfDue();

    // Assess
    expect(batcher.stats.dropped).toBe(3);
    expect(
      store
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual([4, 5, 6, 7, 8].map((i) => presenceKey(uid(i))).sort());
  });

  it('notes the interval it observes between two polls of an agent the server does not steer', async () => {
    // Prepare
    const { clock, store, batcher } = setup();
    batcher.seen(uid(1), T0);
    clock.now = T0 + MINUTE;
    await batcher.flushIfDue();

    // Act: the next poll lands in the next batch.
    batcher.seen(uid(1), T0 + 75 * SECOND);
    await batcher.flush();

    // Assess
    expect(store.entries().map((e) => e.intervalSeconds)).toEqual([0, 75]);
  });

  it('takes a message right after a poll (a status report after applying) for a burst, not for the interval', async () => {
    const { store, batcher } = setup({ minIntervalSeconds: 15 });
    batcher.seen(uid(1), T0);
    batcher.seen(uid(1), T0 + 60 * SECOND);
    // The Collector reports the applied configuration a second after the poll that offered it.
    batcher.seen(uid(1), T0 + 61 * SECOND);
    await batcher.flush();
    expect(store.entries().map((e) => e.intervalSeconds)).toEqual([60]);
  });

  it('observes the interval of an agent that skipped a batch or two (up to an hour)', async () => {
    const { store, batcher } = setup();
    batcher.seen(uid(1), T0);
    await batcher.flush();
    batcher.seen(uid(2), T0 + MINUTE);
    await batcher.flush();

    batcher.seen(uid(1), T0 + 2 * MINUTE);
    batcher.seen(uid(3), T0 + 2 * MINUTE);
    await batcher.flush();

    expect(store.batches.at(-1)?.entries.find((e) => e.key === presenceKey(uid(1)))?.intervalSeconds).toBe(120);
  });

  it('writes no empty batch', async () => {
    const { store, batcher } = setup();

    const outcome = await batcher.flush();

    expect(outcome.items).toBe(0);
    expect(store.batches).toHaveLength(0);
  });

  it('does not retry a full batch on every poll after a failed write', async () => {
    const { store, batcher } = setup({ maxEntriesPerItem: 2 });
    batcher.seen(uid(1), T0);
    batcher.seen(uid(2), T0);
    store.failures = 1;

    await batcher.flushIfDue();
    const next = await batcher.flushIfDue();

    expect(next).toBeUndefined();
    expect(batcher.pending).toBe(2);
  });
});
