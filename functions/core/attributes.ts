import type { AnyValue, KeyValue } from '../gen/opamp/v1/anyvalue_pb.js';
import type { AgentDescription } from '../gen/opamp/v1/opamp_pb.js';

/**
 * Attribute values as plain text, the form selectors compare against
 * (`service.name=checkout`). Scalars print as themselves; arrays and key/value
 * lists as compact JSON; bytes as base64.
 */
export function anyValueToText(value: AnyValue | undefined): string {
  const v = value?.value;
  switch (v?.case) {
    case 'stringValue':
      return v.value;
    case 'boolValue':
    case 'intValue':
    case 'doubleValue':
      return String(v.value);
    case 'bytesValue':
      return Buffer.from(v.value).toString('base64');
    case 'arrayValue':
    case 'kvlistValue':
      return JSON.stringify(anyValueToJson(value));
    default:
      return '';
  }
}

/** A JSON rendering of an AnyValue that keeps its structure (for the fleet API). */
export function anyValueToJson(value: AnyValue | undefined): unknown {
  const v = value?.value;
  switch (v?.case) {
    case 'stringValue':
    case 'boolValue':
    case 'doubleValue':
      return v.value;
    case 'intValue':
      // 64-bit integers beyond 2^53 cannot be JSON numbers without losing digits.
      return Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString();
    case 'bytesValue':
      return Buffer.from(v.value).toString('base64');
    case 'arrayValue':
      return v.value.values.map(anyValueToJson);
    case 'kvlistValue':
      return keyValuesToJson(v.value.values);
    default:
      return null;
  }
}

export function keyValuesToJson(values: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of values) out[kv.key] = anyValueToJson(kv.value);
  return out;
}

/**
 * The attributes selectors match on: non-identifying first, then identifying,
 * so that an identifying attribute wins when both carry the same key.
 */
export function selectorAttributes(description: AgentDescription): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of description.nonIdentifyingAttributes) out[kv.key] = anyValueToText(kv.value);
  for (const kv of description.identifyingAttributes) out[kv.key] = anyValueToText(kv.value);
  return out;
}
