import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AnyValueSchema, KeyValueSchema } from '../../../functions/gen/opamp/v1/anyvalue_pb.js';
import { AgentDescriptionSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { anyValueToJson, anyValueToText, keyValuesToJson, selectorAttributes } from '../../../functions/core/attributes.js';
import { description, keyValues } from '../../support/messages.js';

type AnyInit = MessageInitShape<typeof AnyValueSchema>;
const any = (init: AnyInit) => create(AnyValueSchema, init);
const str = (value: string): AnyInit => ({ value: { case: 'stringValue', value } });
const int = (value: bigint): AnyInit => ({ value: { case: 'intValue', value } });

const ARRAY = any({ value: { case: 'arrayValue', value: { values: [str('a'), int(2n), { value: { case: 'boolValue', value: true } }] } } });
const KVLIST = any({
  value: {
    case: 'kvlistValue',
    value: {
      values: [
        { key: 'k', value: str('v') },
        { key: 'n', value: { value: { case: 'arrayValue', value: { values: [int(1n)] } } } },
      ],
    },
  },
});

describe('anyValueToText', () => {
  it.each<[string, ReturnType<typeof any> | undefined, string]>([
    ['a string as itself', any(str('checkout')), 'checkout'],
    ['an empty string as empty', any(str('')), ''],
    ['true', any({ value: { case: 'boolValue', value: true } }), 'true'],
    ['false', any({ value: { case: 'boolValue', value: false } }), 'false'],
    ['an int', any(int(-42n)), '-42'],
    ['an int beyond 2^53 without losing digits', any(int(9_007_199_254_740_993n)), '9007199254740993'],
    ['a double', any({ value: { case: 'doubleValue', value: 1.5 } }), '1.5'],
    ['bytes as base64', any({ value: { case: 'bytesValue', value: new Uint8Array([0xfb, 0xff, 0x01]) } }), '+/8B'],
    ['an array as compact JSON', ARRAY, '["a",2,true]'],
    ['a key/value list as compact JSON', KVLIST, '{"k":"v","n":[1]}'],
    ['an unset value as empty', any({}), ''],
    ['a missing value as empty', undefined, ''],
  ])('prints %s', (_name, value, expected) => {
    // Act
    const text = anyValueToText(value);

    // Assess
    expect(text).toBe(expected);
  });
});

describe('anyValueToJson', () => {
  it.each<[string, ReturnType<typeof any> | undefined, unknown]>([
    ['a safe int as a number', any(int(42n)), 42],
    ['an int beyond 2^53 as a string', any(int(9_007_199_254_740_993n)), '9007199254740993'],
    ['a negative int beyond -2^53 as a string', any(int(-9_007_199_254_740_993n)), '-9007199254740993'],
    ['nested arrays and lists with their structure', KVLIST, { k: 'v', n: [1] }],
    ['an unset value as null', any({}), null],
    ['a missing value as null', undefined, null],
  ])('renders %s', (_name, value, expected) => {
    // Act
    const json = anyValueToJson(value);

    // Assess
    expect(json).toEqual(expected);
  });
});

describe('keyValuesToJson', () => {
  it('maps keys to values, the last of a repeated key winning', () => {
    // Prepare
    const values = [create(KeyValueSchema, { key: 'a', value: str('1') }), create(KeyValueSchema, { key: 'b' }), create(KeyValueSchema, { key: 'a', value: str('2') })];

    // Act
    const json = keyValuesToJson(values);

    // Assess
    expect(json).toEqual({ a: '2', b: null });
  });
});

describe('selectorAttributes', () => {
  it('flattens identifying and non-identifying attributes to text', () => {
    // Prepare
    const agent = description({ 'service.name': 'checkout', 'service.instance.count': 3 }, { 'os.type': 'linux', 'feature.on': true });

    // Act
    const attributes = selectorAttributes(agent);

    // Assess
    expect(attributes).toEqual({
      'service.name': 'checkout',
      'service.instance.count': '3',
      'os.type': 'linux',
      'feature.on': 'true',
    });
  });

  it('lets an identifying attribute win over a non-identifying one with the same key', () => {
    // Prepare
    const agent = create(AgentDescriptionSchema, {
      identifyingAttributes: keyValues({ 'host.name': 'identifying' }),
      nonIdentifyingAttributes: keyValues({ 'host.name': 'non-identifying' }),
    });

    // Act
    const attributes = selectorAttributes(agent);

    // Assess
    expect(attributes).toEqual({ 'host.name': 'identifying' });
  });

  it('returns no attributes for an empty description', () => {
    // Act / Assess
    expect(selectorAttributes(create(AgentDescriptionSchema, {}))).toEqual({});
  });
});
