import { createHash } from 'node:crypto';
import { byKey } from './compare.js';

/**
 * JSON with object keys sorted at every level, so that equal content always
 * gives equal text whatever order map entries arrived in (protobuf does not
 * fix the order of map entries on the wire). Array order is kept: it is
 * meaningful for repeated fields.
 */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(byKey);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * A short content identifier: the first 16 bytes of SHA-256, base64url. 128
 * bits keep collisions out of reach for any fleet while keeping keys and the
 * per-poll item small.
 */
export function contentId(data: Uint8Array | string): string {
  return sha256(data).subarray(0, 16).toString('base64url');
}
