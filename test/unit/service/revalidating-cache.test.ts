import { describe, expect, it, vi } from 'vitest';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import { FleetStateCache } from '../../../functions/service/fleet-cache.js';
import { RevalidatingCache } from '../../../functions/service/revalidating-cache.js';
import type { VersionedSource } from '../../../functions/service/revalidating-cache.js';

const T0 = Date.UTC(2026, 0, 1);
const REVALIDATE_MS = 10_000;

/** A source whose generation and value the test sets, counting reads; either read can be made to fail or wait. */
class FakeSource implements VersionedSource<string> {
  generationReads = 0;
  loads = 0;
  current = { generation: 'g1', value: 'value-1' };
  failGeneration: Error | undefined;
  failLoad: Error | undefined;
  gate: Promise<void> | undefined;

  async generation(): Promise<string> {
    this.generationReads++;
    await this.gate;
    if (this.failGeneration) throw this.failGeneration;
    return this.current.generation;
  }

  async load(): Promise<{ generation: string; value: string }> {
    this.loads++;
    await this.gate;
    if (this.failLoad) throw this.failLoad;
    return { ...this.current };
  }

  change(generation: string, value: string): void {
    this.current = { generation, value };
  }

  get reads() {
    return { generation: this.generationReads, loads: this.loads };
  }
}

function setup(telemetry: Telemetry = NO_TELEMETRY) {
  const source = new FakeSource();
  const clock = { now: T0 };
  const cache = new RevalidatingCache(source, () => clock.now, REVALIDATE_MS, telemetry, 'test value');
  return { source, clock, cache };
}

/** A cache that holds value-1, read at T0. */
async function warm() {
  const s = setup();
  await s.cache.current();
  return s;
}

describe('RevalidatingCache', () => {
  it('loads on first use', async () => {
    // Prepare
    const { source, cache } = setup();

    // Act
    const value = await cache.current();

    // Assess
    expect(value).toBe('value-1');
    expect(source.loads).toBe(1);
  });

  it('reads nothing from the store within revalidateMs, even when the source changed', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    const before = source.reads;
    source.change('g2', 'value-2');

    // Act
    const values: string[] = [];
    for (const t of [0, 1, REVALIDATE_MS / 2, REVALIDATE_MS - 1]) {
      clock.now = T0 + t;
      values.push(await cache.current());
    }

    // Assess
    expect(values).toEqual(['value-1', 'value-1', 'value-1', 'value-1']);
    expect(source.reads).toEqual(before);
  });

  it('reads the generation once after revalidateMs and does not reload when it did not move', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    const before = source.reads;
    clock.now = T0 + REVALIDATE_MS;

    // Act
    const first = await cache.current();
    const second = await cache.current();

    // Assess
    expect([first, second]).toEqual(['value-1', 'value-1']);
    expect(source.reads).toEqual({ generation: before.generation + 1, loads: before.loads });
  });

  it('reloads when the generation moved, and serves the new value', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    const before = source.reads;
    source.change('g2', 'value-2');
    clock.now = T0 + REVALIDATE_MS;

    // Act
    const value = await cache.current();

    // Assess
    expect(value).toBe('value-2');
    expect(source.reads).toEqual({ generation: before.generation + 1, loads: before.loads + 1 });
  });

  it('starts a new quiet period from the revalidation', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    clock.now = T0 + REVALIDATE_MS;
    await cache.current();
    const before = source.reads;

    // Act
    clock.now = T0 + 2 * REVALIDATE_MS - 1;
    await cache.current();

    // Assess
    expect(source.reads).toEqual(before);
  });

  it('lets concurrent callers share one revalidation', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    const before = source.reads;
    source.change('g2', 'value-2');
    clock.now = T0 + REVALIDATE_MS;
    let open!: () => void;
    source.gate = new Promise<void>((resolve) => {
      open = resolve;
    });

    // Act
    const pending = Array.from({ length: 10 }, () => cache.current());
    open();
    const values = await Promise.all(pending);

    // Assess
    expect(values).toEqual(Array(10).fill('value-2'));
    expect(source.reads).toEqual({ generation: before.generation + 1, loads: before.loads + 1 });
  });

  it('lets concurrent first callers share one load', async () => {
    // Prepare
    const { source, cache } = setup();
    let open!: () => void;
    source.gate = new Promise<void>((resolve) => {
      open = resolve;
    });

    // Act
    const pending = Array.from({ length: 5 }, () => cache.current());
    open();
    const values = await Promise.all(pending);

    // Assess
    expect(values).toEqual(Array(5).fill('value-1'));
    expect(source.reads).toEqual({ generation: 1, loads: 1 });
  });

  it.each<[string, (source: FakeSource) => void]>([
    [
      'the generation read fails',
      (source) => {
        source.failGeneration = new Error('throttled');
      },
    ],
    [
      'the reload fails',
      (source) => {
        source.change('g2', 'value-2');
        source.failLoad = new Error('throttled');
      },
    ],
  ])('serves the cached value when %s, and logs a warning', async (_name, breakStore) => {
    // Prepare
    const warn = vi.fn();
    const s = setup({ ...NO_TELEMETRY, logger: { ...NO_TELEMETRY.logger, warn } });
    await s.cache.current();
    breakStore(s.source);
    s.clock.now = T0 + REVALIDATE_MS;

    // Act
    const value = await s.cache.current();

    // Assess
    expect(value).toBe('value-1');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('test value'), expect.objectContaining({ error: 'throttled' }));
  });

  it('tries again on the next call after a failed revalidation, and picks up the change once the store answers', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    source.change('g2', 'value-2');
    source.failGeneration = new Error('throttled');
    clock.now = T0 + REVALIDATE_MS;
    await cache.current();

    // Act
    source.failGeneration = undefined;
    clock.now += 1;
    const value = await cache.current();

    // Assess
    expect(value).toBe('value-2');
  });

  it.each<[string, (source: FakeSource) => void]>([
    [
      'the generation read fails',
      (source) => {
        source.failGeneration = new Error('store down');
      },
    ],
    [
      'the load fails',
      (source) => {
        source.failLoad = new Error('store down');
      },
    ],
  ])('propagates the error when %s and nothing is cached, and caches no failure', async (_name, breakStore) => {
    // Prepare
    const { source, cache } = setup();
    breakStore(source);

    // Act
    const first = cache.current();

    // Assess
    await expect(first).rejects.toThrow('store down');
    source.failGeneration = undefined;
    source.failLoad = undefined;
    await expect(cache.current()).resolves.toBe('value-1');
  });

  it('revalidates on the next call after invalidate(), even within revalidateMs', async () => {
    // Prepare
    const { source, clock, cache } = await warm();
    source.change('g2', 'value-2');
    clock.now = T0 + 1;

    // Act
    cache.invalidate();
    const value = await cache.current();

    // Assess
    expect(value).toBe('value-2');
  });
});

describe('FleetStateCache', () => {
  async function setupFleet() {
    const store = new MemoryFleetStore();
    await store.putConfigFile(
      {
        configName: 'default',
        fileName: 'c.yaml',
        objectKey: 'configs/default/c.yaml',
        sha256: 'aa',
        size: 1,
        contentType: 'text/yaml',
        updatedAt: T0,
      },
      { sequencer: '1' },
    );
    await store.bumpGeneration();
    const generation = vi.spyOn(store, 'generation');
    const load = vi.spyOn(store, 'load');
    const clock = { now: T0 };
    const cache = new FleetStateCache(store, () => clock.now, REVALIDATE_MS, NO_TELEMETRY);
    return { store, generation, load, clock, cache };
  }

  it('serves the stored fleet state, reading the store only after revalidateMs and reloading only when the generation moved', async () => {
    // Prepare
    const { store, generation, load, clock, cache } = await setupFleet();
    const first = await cache.current();
    await store.putConfigFile(
      {
        configName: 'checkout',
        fileName: 'c.yaml',
        objectKey: 'configs/checkout/c.yaml',
        sha256: 'bb',
        size: 1,
        contentType: 'text/yaml',
        updatedAt: T0,
      },
      { sequencer: '2' },
    );
    await store.bumpGeneration();

    // Act
    clock.now = T0 + REVALIDATE_MS - 1;
    const early = await cache.current();
    const readsBefore = [generation.mock.calls.length, load.mock.calls.length];
    clock.now = T0 + REVALIDATE_MS;
    const revalidated = await cache.current();
    clock.now = T0 + 2 * REVALIDATE_MS;
    const unchanged = await cache.current();

    // Assess
    expect([...first.configs.keys()]).toEqual(['default']);
    expect(early).toBe(first);
    expect(readsBefore).toEqual([1, 1]);
    expect([...revalidated.configs.keys()].sort()).toEqual(['checkout', 'default']);
    expect(revalidated.generation).toBe('2');
    expect(unchanged).toBe(revalidated);
    expect([generation.mock.calls.length, load.mock.calls.length]).toEqual([3, 2]);
  });

  it('serves the cached fleet state when the store fails', async () => {
    // Prepare
    const { generation, clock, cache } = await setupFleet();
    const first = await cache.current();
    generation.mockRejectedValue(new Error('ProvisionedThroughputExceeded'));
    clock.now = T0 + REVALIDATE_MS;

    // Act
    const served = await cache.current();

    // Assess
    expect(served).toBe(first);
  });

  it('fails without a cached fleet state when the store fails', async () => {
    // Prepare
    const { load, cache } = await setupFleet();
    load.mockRejectedValue(new Error('table missing'));

    // Act / Assess
    await expect(cache.current()).rejects.toThrow('table missing');
  });
});
