/**
 * The one string order the backend uses: by UTF-16 code units, as `<` compares
 * and as DynamoDB and S3 sort keys. Not `localeCompare`: hashes over sorted
 * lists must come out the same on every machine, whatever its locale.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders `[key, value]` entries (from `Object.entries` or a Map) by key. */
export function byKey<T>([a]: readonly [string, T], [b]: readonly [string, T]): number {
  return compareStrings(a, b);
}

/** Orders records by their `name`. */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return compareStrings(a.name, b.name);
}
