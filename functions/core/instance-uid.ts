/**
 * Instance uids travel as 16 raw bytes in protobuf and as canonical UUID text
 * (8-4-4-4-12 lowercase hex) everywhere else: storage keys, the fleet API, logs.
 * Agents may send any 16 bytes, not only RFC 9562 UUIDs, so the conversion here
 * does not validate version or variant bits.
 */

export const INSTANCE_UID_BYTES = 16;

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isInstanceUidBytes(bytes: Uint8Array): boolean {
  return bytes.length === INSTANCE_UID_BYTES;
}

export function instanceUidToText(bytes: Uint8Array): string {
  if (bytes.length !== INSTANCE_UID_BYTES) {
    throw new RangeError(`instance uid must be ${INSTANCE_UID_BYTES} bytes, got ${bytes.length}`);
  }
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isCanonicalInstanceUid(text: string): boolean {
  return CANONICAL_UUID.test(text);
}

/** Parses canonical UUID text; returns undefined when the text is not one. */
export function instanceUidFromText(text: string): Uint8Array | undefined {
  if (!isCanonicalInstanceUid(text)) return undefined;
  return new Uint8Array(Buffer.from(text.replaceAll('-', ''), 'hex'));
}
