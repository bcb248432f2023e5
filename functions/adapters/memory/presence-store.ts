import { decodePresence, encodePresence } from '../../core/presence.js';
import type { PresenceEntry } from '../../core/presence.js';
import { windowStartOf } from '../../ports/presence-store.js';
import type { PresenceBatch, PresenceStore } from '../../ports/presence-store.js';

/** Presence batches in memory, stored encoded as the DynamoDB adapter stores them. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly windows = new Map<number, Array<{ baseSeconds: number; bytes: Uint8Array }>>();
  writes = 0;
  reads = 0;

  async write(batch: PresenceBatch, windowMs: number): Promise<void> {
    this.writes++;
    const start = windowStartOf(batch.flushedAt, windowMs);
    const items = this.windows.get(start) ?? [];
    this.windows.set(start, items);
    items.push(encodePresence(batch.entries));
  }

  async readWindow(windowStart: number): Promise<PresenceEntry[]> {
    this.reads++;
    return (this.windows.get(windowStart) ?? []).flatMap((item) => decodePresence(item.baseSeconds, item.bytes));
  }
}
