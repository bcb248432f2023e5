import type { AgentDescription } from '../gen/opamp/v1/opamp_pb.js';
import { anyValueToText } from './attributes.js';

/**
 * What of an agent's message may be copied into its record. The record is one
 * DynamoDB item, read on every poll and refused above 400 KB, while a message
 * may carry up to the body limit (2 MiB by default). The full description is
 * kept as a section (in S3 when large); the record keeps what fits these
 * bounds and says what it left out.
 */
export const RECORD_BOUNDS = {
  /** Selector attributes, keys and values together. */
  attributeBytes: 32 * 1024,
  /** A longer key or value is left out of the selector attributes whole (a cut value would match wrongly). */
  attributeKeyBytes: 256,
  attributeValueBytes: 1024,
  /** Custom capability names, together, and each. */
  customCapabilityBytes: 16 * 1024,
  customCapabilityNameBytes: 256,
  /** Error messages the agent reports (config, settings, packages). */
  errorMessageBytes: 2 * 1024,
  /** How many left-out names the record lists. */
  omittedNames: 10,
  /**
   * The whole record, as JSON: a last guard for state the bounds above do not
   * cover (say, tens of thousands of packages), well under DynamoDB's 400 KB.
   */
  recordBytes: 300 * 1024,
} as const;

/** Whether a record's JSON form fits RECORD_BOUNDS.recordBytes. */
export function recordFits(json: string): boolean {
  return json.length * 3 <= RECORD_BOUNDS.recordBytes || Buffer.byteLength(json) <= RECORD_BOUNDS.recordBytes;
}

/** Marks a list the record holds only part of. */
export interface Truncation {
  /** Entries kept in the record. */
  kept: number;
  /** Entries the agent sent. */
  total: number;
  /** The first few entries left out (names cut to the key bound). */
  omitted: string[];
}

export interface BoundedAttributes {
  attributes: Record<string, string>;
  truncated?: Truncation;
}

/**
 * The attributes selectors match on, within RECORD_BOUNDS: identifying first
 * (an identifying attribute wins over a non-identifying one with the same key,
 * and identity is what selectors match on most), then non-identifying, in the
 * agent's order, while they fit.
 */
export function boundedSelectorAttributes(description: AgentDescription): BoundedAttributes {
  const attributes: Record<string, string> = {};
  const seen = new Set<string>();
  const omitted: string[] = [];
  let budget = RECORD_BOUNDS.attributeBytes;
  let kept = 0;
  for (const kv of [...description.identifyingAttributes, ...description.nonIdentifyingAttributes]) {
    if (seen.has(kv.key)) continue;
    seen.add(kv.key);
    // Once the budget is spent the rest are only counted (and the first few named).
    if (kv.key.length >= budget) {
      if (omitted.length < RECORD_BOUNDS.omittedNames) omitted.push(cutName(kv.key));
      continue;
    }
    const keyBytes = Buffer.byteLength(kv.key);
    const value = keyBytes <= RECORD_BOUNDS.attributeKeyBytes ? anyValueToText(kv.value) : '';
    const size = keyBytes + Buffer.byteLength(value);
    if (keyBytes > RECORD_BOUNDS.attributeKeyBytes || size - keyBytes > RECORD_BOUNDS.attributeValueBytes || size > budget) {
      if (omitted.length < RECORD_BOUNDS.omittedNames) omitted.push(cutName(kv.key));
      continue;
    }
    attributes[kv.key] = value;
    budget -= size;
    kept++;
  }
  return seen.size === kept ? { attributes } : { attributes, truncated: { kept, total: seen.size, omitted } };
}

export interface BoundedList {
  values: string[];
  truncated?: Truncation;
}

/** Custom capabilities within RECORD_BOUNDS, in the agent's order. */
export function boundedCustomCapabilities(capabilities: readonly string[]): BoundedList {
  const values: string[] = [];
  const omitted: string[] = [];
  let budget = RECORD_BOUNDS.customCapabilityBytes;
  for (const name of capabilities) {
    const size = Buffer.byteLength(name);
    if (size > RECORD_BOUNDS.customCapabilityNameBytes || size > budget) {
      if (omitted.length < RECORD_BOUNDS.omittedNames) omitted.push(cutName(name));
      continue;
    }
    values.push(name);
    budget -= size;
  }
  return values.length === capabilities.length ? { values } : { values, truncated: { kept: values.length, total: capabilities.length, omitted } };
}

/** An error message within RECORD_BOUNDS; a cut one ends with a marker saying how much was cut. */
export function boundedErrorMessage(message: string): string {
  if (message.length <= RECORD_BOUNDS.errorMessageBytes / 4 || Buffer.byteLength(message) <= RECORD_BOUNDS.errorMessageBytes) return message;
  const head = Buffer.from(message)
    .subarray(0, RECORD_BOUNDS.errorMessageBytes - 64)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return `${head}… [cut: ${Buffer.byteLength(message) - Buffer.byteLength(head)} more bytes]`;
}

function cutName(name: string): string {
  return name.length <= RECORD_BOUNDS.attributeKeyBytes ? name : `${name.slice(0, RECORD_BOUNDS.attributeKeyBytes)}…`;
}
