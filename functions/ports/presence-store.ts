import type { PresenceEntry } from '../core/presence.js';

/** One batch as written: one function instance's sightings, flushed at `flushedAt`. */
export interface PresenceBatch {
  /** The writing function instance (random per instance). */
  instanceId: string;
  /** Counts this instance's batches, so that each is its own item. */
  sequence: number;
  flushedAt: number;
  entries: readonly PresenceEntry[];
}

/**
 * Where presence batches live. Batches are filed under the window (of
 * `windowMs`) in which they were flushed, so that a reader asks for the
 * windows it needs, one call each, whatever the number of agents.
 */
export interface PresenceStore {
  /** Writes one batch; it must fit one item (the batcher splits larger ones). */
  write(batch: PresenceBatch, windowMs: number, expiresAtSeconds: number): Promise<void>;

  /** Every entry of every batch flushed in the window starting at `windowStart`. */
  readWindow(windowStart: number, windowMs: number): Promise<PresenceEntry[]>;
}

/** The start of the window `at` falls in. */
export function windowStartOf(at: number, windowMs: number): number {
  return Math.floor(at / windowMs) * windowMs;
}
