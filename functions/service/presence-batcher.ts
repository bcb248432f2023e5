import { randomBytes } from 'node:crypto';
import { presenceKey } from '../core/presence.js';
import type { PresenceEntry } from '../core/presence.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { Telemetry } from '../observability/telemetry.js';
import { NO_TELEMETRY } from '../observability/telemetry.js';

export interface PresenceBatcherOptions {
  store: PresenceStore;
  now: () => number;
  /** Batches are filed by windows of this length; an instance writes at most about one batch per window. */
  windowMs: number;
  /**
   * An agent polling at a longer interval may wait up to its interval (never
   * longer than this) before its batch is written: fewer, fuller batches, and
   * its last-seen time still trails by at most one interval.
   */
  maxHoldMs: number;
  /** A batch holds at most this many agents; more are split over several items. */
  maxEntriesPerItem: number;
  /** What is kept after failed writes, at most; beyond it the oldest sightings are dropped. */
  maxBufferedEntries: number;
  /** How long batches are kept (the TTL of their items). */
  retentionSeconds: number;
  /** A failed write is tried again on the first poll after this long. */
  retryAfterMs?: number;
  /**
   * Messages closer together than this are a burst (a status report sent
   * right after applying a configuration), not the agent's poll interval:
   * learning it would make the agent look silent after one missed second.
   */
  minIntervalSeconds?: number;
  instanceId?: string;
  telemetry?: Telemetry;
}

interface Sighting {
  seenAt: number;
  intervalSeconds: number;
  /** When the batch holding this sighting must be written. */
  dueAt: number;
}

export interface FlushOutcome {
  written: number;
  items: number;
  /** Entries kept for the next attempt after a failed write. */
  kept: number;
  /** Entries dropped because more than maxBufferedEntries were waiting. */
  dropped: number;
}

/** Intervals observed between two polls are believed up to this long (longer gaps are outages, not intervals). */
const MAX_OBSERVED_INTERVAL_SECONDS = 3600;

/**
 * Remembers which agents this function instance answered, and when, and
 * writes them as one batch per window: liveness costs a write per instance per
 * window, not one per agent. There is no timer on Lambda (a frozen instance
 * runs nothing), so the poll that arrives after a batch is due writes it.
 */
export class PresenceBatcher {
  readonly instanceId: string;
  private buffer = new Map<string, Sighting>();
  /** When each agent was last written, to observe the interval of agents the server does not steer. */
  private previous = new Map<string, number>();
  private dueAt = Number.POSITIVE_INFINITY;
  /** After a failed write, nothing is written before this time. */
  private notBefore = 0;
  private sequence = 0;
  private flushing: Promise<FlushOutcome> | undefined;
  private readonly telemetry: Telemetry;
  /** Batches and entries written, failed writes and dropped entries so far. */
  readonly stats = { items: 0, entries: 0, failures: 0, dropped: 0 };

  constructor(private readonly options: PresenceBatcherOptions) {
    this.instanceId = options.instanceId ?? randomBytes(6).toString('base64url');
    this.telemetry = options.telemetry ?? NO_TELEMETRY;
  }

  /** How many agents wait to be written. */
  get pending(): number {
    return this.buffer.size;
  }

  /** Notes that the agent was answered at `at`; `steeredSeconds` is the interval the server asked of it. */
  seen(instanceUid: string, at: number, steeredSeconds?: number): void {
    const key = presenceKey(instanceUid);
    const before = this.buffer.get(key);
    const lastAt = before?.seenAt ?? this.previous.get(key);
    const observed = lastAt !== undefined && at > lastAt ? Math.round((at - lastAt) / 1000) : 0;
    const cadence = observed > 0 && observed >= (this.options.minIntervalSeconds ?? 0) && observed <= MAX_OBSERVED_INTERVAL_SECONDS;
    const intervalSeconds = steeredSeconds && steeredSeconds > 0 ? steeredSeconds : cadence ? observed : (before?.intervalSeconds ?? 0);
    const { windowMs, maxHoldMs } = this.options;
    const hold = Math.min(maxHoldMs, Math.max(windowMs, intervalSeconds * 1000));
    // The earliest unwritten sighting decides when the batch is due.
    const dueAt = before ? Math.min(before.dueAt, at + hold) : at + hold;
    this.buffer.set(key, { seenAt: Math.max(at, before?.seenAt ?? 0), intervalSeconds, dueAt });
    this.dueAt = Math.min(this.dueAt, dueAt);
    this.trim();
  }

  /** Whether a batch is due (its window closed, or it is full). */
  due(): boolean {
    const now = this.options.now();
    return this.buffer.size > 0 && now >= this.notBefore && (now >= this.dueAt || this.buffer.size >= this.options.maxEntriesPerItem);
  }

  /** Writes the batch when it is due; never throws (a failed write is kept and tried again). */
  async flushIfDue(): Promise<FlushOutcome | undefined> {
    return this.due() ? this.flush() : undefined;
  }

  /** Writes everything waiting now (on shutdown, or when due). */
  flush(): Promise<FlushOutcome> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<FlushOutcome> {
    const taken = this.buffer;
    this.buffer = new Map();
    this.dueAt = Number.POSITIVE_INFINITY;
    const entries: PresenceEntry[] = [...taken].map(([key, s]) => ({ key, seenAt: s.seenAt, intervalSeconds: s.intervalSeconds }));
    const { maxEntriesPerItem, retentionSeconds, windowMs } = this.options;
    const outcome: FlushOutcome = { written: 0, items: 0, kept: 0, dropped: 0 };
    for (let from = 0; from < entries.length; from += maxEntriesPerItem) {
      const chunk = entries.slice(from, from + maxEntriesPerItem);
      const flushedAt = this.options.now();
      try {
        await this.options.store.write({ instanceId: this.instanceId, sequence: ++this.sequence, flushedAt, entries: chunk }, windowMs, Math.floor(flushedAt / 1000) + retentionSeconds);
      } catch (error) {
        // Keep this chunk and the rest for the next attempt; what arrived meanwhile is newer and wins.
        const rest = entries.slice(from);
        outcome.kept = this.restore(rest, flushedAt + (this.options.retryAfterMs ?? Math.min(windowMs, 10_000)));
        outcome.dropped = this.trim();
        outcome.kept -= outcome.dropped;
        this.stats.failures++;
        this.telemetry.count('PresenceWriteFailures');
        this.telemetry.logger.warn('presence batch not written; kept for the next attempt', {
          error: (error as Error).message,
          kept: outcome.kept,
          dropped: outcome.dropped,
        });
        break;
      }
      outcome.written += chunk.length;
      outcome.items++;
      this.stats.items++;
      this.stats.entries += chunk.length;
    }
    this.remember(entries.slice(0, outcome.written));
    return outcome;
  }

  /** Keeps when each written agent was seen, for an hour, to observe its interval at its next poll. */
  private remember(written: readonly PresenceEntry[]): void {
    const horizon = this.options.now() - MAX_OBSERVED_INTERVAL_SECONDS * 1000;
    for (const [key, at] of this.previous) if (at < horizon) this.previous.delete(key);
    for (const e of written) this.previous.set(e.key, e.seenAt);
  }

  /** Puts unwritten entries back, due at `retryAt` (a sighting that arrived meanwhile is newer and wins); returns how many. */
  private restore(entries: readonly PresenceEntry[], retryAt: number): number {
    for (const e of entries) {
      if (!this.buffer.has(e.key)) this.buffer.set(e.key, { seenAt: e.seenAt, intervalSeconds: e.intervalSeconds, dueAt: retryAt });
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const s of this.buffer.values()) earliest = Math.min(earliest, s.dueAt);
    // Not before retryAt: a failing store is not asked again on every poll.
    this.dueAt = Math.max(retryAt, earliest);
    this.notBefore = retryAt;
    return entries.length;
  }

  /** Drops the longest-waiting sightings beyond maxBufferedEntries; returns how many. */
  private trim(): number {
    const excess = this.buffer.size - this.options.maxBufferedEntries;
    if (excess <= 0) return 0;
    let left = excess;
    for (const key of this.buffer.keys()) {
      if (left-- <= 0) break;
      this.buffer.delete(key);
    }
    this.stats.dropped += excess;
    return excess;
  }
}
