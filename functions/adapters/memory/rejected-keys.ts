import { mergeRejectedKeys } from '../../core/rejected-keys.js';
import type { RejectedKey } from '../../core/rejected-keys.js';
import type { RejectedKeyLog } from '../../ports/rejected-keys.js';

export class MemoryRejectedKeyLog implements RejectedKeyLog {
  private entries: RejectedKey[] = [];
  /** How many times the list was written (tests check that repeats write nothing). */
  writes = 0;

  async record(entries: readonly RejectedKey[]): Promise<boolean> {
    const { list, changed } = mergeRejectedKeys(this.entries, entries);
    if (!changed) return false;
    this.entries = list;
    this.writes++;
    return true;
  }

  async list(): Promise<RejectedKey[]> {
    return this.entries.map((e) => ({ ...e }));
  }
}
