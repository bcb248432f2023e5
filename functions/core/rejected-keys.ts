/** A bucket object the ingest would not accept, and why. */
export interface RejectedKey {
  key: string;
  reason: string;
  /** When it was last seen rejected (ms since the epoch). */
  at: number;
}

/** How many rejected keys are kept: the latest ones. */
export const MAX_REJECTED_KEYS = 100;

/**
 * The list lives in one DynamoDB item (400 KB at most). Keys may hold
 * characters that JSON escapes six-fold, so the list is bounded by its
 * serialized size too, dropping the oldest entries first.
 */
const MAX_LIST_CHARS = 300_000;
const MAX_KEY_CHARS = 1024;
const MAX_REASON_CHARS = 300;

/**
 * Adds what was just rejected to the list (newest first, one entry per key).
 * A key already listed with the same reason is left as it is, so that
 * re-reading the same bucket writes nothing; `changed` says whether the list
 * differs from `existing`.
 */
export function mergeRejectedKeys(existing: readonly RejectedKey[], incoming: readonly RejectedKey[]): { list: RejectedKey[]; changed: boolean } {
  let list = [...existing];
  let changed = false;
  for (const entry of incoming) {
    const bounded = { key: entry.key.slice(0, MAX_KEY_CHARS), reason: entry.reason.slice(0, MAX_REASON_CHARS), at: entry.at };
    const known = list.find((e) => e.key === bounded.key);
    if (known && known.reason === bounded.reason) continue;
    list = [bounded, ...list.filter((e) => e.key !== bounded.key)];
    changed = true;
  }
  list = list.slice(0, MAX_REJECTED_KEYS);
  while (list.length > 0 && JSON.stringify(list).length > MAX_LIST_CHARS) list = list.slice(0, -1);
  return { list, changed };
}
