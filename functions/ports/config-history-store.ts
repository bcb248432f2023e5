import type { ConfigVersion } from '../core/config-history.js';

export interface ConfigHistoryPage {
  /** Newest first. */
  versions: ConfigVersion[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string | undefined;
}

/**
 * The versions each configuration went through, newest first. A version is a
 * config hash and its files; the files' bytes are kept apart, by content hash
 * (see core/config-history.ts), so any recorded version can be served again.
 */
export interface ConfigHistoryStore {
  /**
   * Adds `version` as the configuration's newest. Idempotent: when the newest
   * recorded version already has this hash, nothing is written (false). A hash
   * that comes back later (a restore) is a new entry.
   */
  record(version: ConfigVersion): Promise<boolean>;
  /** Up to `limit` versions, newest first, older than the `before` cursor when given. */
  list(configName: string, options: { limit: number; before?: string | undefined }): Promise<ConfigHistoryPage>;
  /** The version with this hash (base64), as last recorded; undefined when it never was. */
  get(configName: string, hash: string): Promise<ConfigVersion | undefined>;
}
