import type { Telemetry } from '../observability/telemetry.js';

export interface VersionedSource<T> {
  /** A cheap read that changes whenever the value changes. */
  generation(): Promise<string>;
  load(): Promise<{ generation: string; value: T }>;
}

/**
 * A value shared by every request of a function instance (the fleet's desired
 * state, the agent tokens). At most once per `revalidateMs` it reads the
 * source's generation, and reloads only when that moved; so the steady-state
 * request pays no read for it. If the source cannot be reached, the last
 * known value keeps serving.
 */
export class RevalidatingCache<T> {
  private cached: { generation: string; value: T } | undefined;
  private checkedAt = -Infinity;
  private inFlight: Promise<T> | undefined;

  constructor(
    private readonly source: VersionedSource<T>,
    private readonly now: () => number,
    private readonly revalidateMs: number,
    private readonly telemetry: Telemetry,
    private readonly what: string,
  ) {}

  async current(): Promise<T> {
    if (this.cached && this.now() - this.checkedAt < this.revalidateMs) return this.cached.value;
    this.inFlight ??= this.revalidate().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Makes the next call revalidate (after a change made through this instance). */
  invalidate(): void {
    this.checkedAt = -Infinity;
  }

  /** The cached value without revalidating, once there is one. */
  peek(): T | undefined {
    return this.cached?.value;
  }

  /** Whether the next `current()` would read the source. */
  due(): boolean {
    return !this.cached || this.now() - this.checkedAt >= this.revalidateMs;
  }

  /**
   * Revalidates with a generation read elsewhere (the poll path reads it in
   * the same call as the agent's record): reloads only if it moved.
   */
  async accept(generation: string): Promise<void> {
    if (this.cached && this.cached.generation === generation) {
      this.checkedAt = this.now();
      return;
    }
    try {
      this.cached = await this.source.load();
      this.checkedAt = this.now();
    } catch (error) {
      if (!this.cached) throw error;
      this.telemetry.logger.warn(`${this.what} could not be reloaded; serving the cached one`, { error: (error as Error).message });
    }
  }

  private async revalidate(): Promise<T> {
    try {
      const generation = await this.source.generation();
      if (!this.cached || generation !== this.cached.generation) this.cached = await this.source.load();
      this.checkedAt = this.now();
      return this.cached.value;
    } catch (error) {
      if (!this.cached) throw error;
      this.telemetry.logger.warn(`${this.what} could not be revalidated; serving the cached one`, { error: (error as Error).message });
      return this.cached.value;
    }
  }
}
