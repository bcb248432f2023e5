import type { ConfigVersion } from '../../core/config-history.js';
import type { ConfigHistoryPage, ConfigHistoryStore } from '../../ports/config-history-store.js';

/** ConfigHistoryStore in memory (unit tests); cursors are positions, as the DynamoDB adapter's sequence numbers. */
export class MemoryConfigHistoryStore implements ConfigHistoryStore {
  /** Oldest first, per configuration. */
  private readonly versions = new Map<string, ConfigVersion[]>();

  async record(version: ConfigVersion): Promise<boolean> {
    const list = this.versions.get(version.configName) ?? [];
    if (list.at(-1)?.hash === version.hash) return false;
    list.push(structuredClone(version));
    this.versions.set(version.configName, list);
    return true;
  }

  async list(configName: string, options: { limit: number; before?: string | undefined }): Promise<ConfigHistoryPage> {
    const list = this.versions.get(configName) ?? [];
    const end = options.before === undefined ? list.length : Math.max(0, Math.min(list.length, Number.parseInt(options.before, 10) - 1));
    const start = Math.max(0, end - options.limit);
    const versions = list
      .slice(start, end)
      .reverse()
      .map((v) => structuredClone(v));
    return { versions, ...(start > 0 ? { next: String(start + 1) } : {}) };
  }

  async get(configName: string, hash: string): Promise<ConfigVersion | undefined> {
    const found = (this.versions.get(configName) ?? []).findLast((v) => v.hash === hash);
    return found ? structuredClone(found) : undefined;
  }
}
