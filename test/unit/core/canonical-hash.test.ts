import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentId, sha256, stableJson } from '../../../functions/core/canonical-hash.js';

describe('stableJson', () => {
  it.each<[string, unknown, string]>([
    ['a string', 'a"b', '"a\\"b"'],
    ['a number', 1.5, '1.5'],
    ['null', null, 'null'],
    ['undefined as null', undefined, 'null'],
    ['an empty object', {}, '{}'],
    ['keys sorted', { b: 1, a: 2, C: 3 }, '{"C":3,"a":2,"b":1}'],
    ['keys sorted at every level', { z: { y: 1, x: [{ b: 1, a: 2 }] }, a: true }, '{"a":true,"z":{"x":[{"a":2,"b":1}],"y":1}}'],
    ['array order kept', [3, 1, 2], '[3,1,2]'],
    ['undefined object members left out', { a: undefined, b: 1 }, '{"b":1}'],
    ['undefined array elements as null, like JSON', [undefined, 1], '[null,1]'],
  ])('writes %s', (_name, value, expected) => {
    // Act
    const text = stableJson(value);

    // Assess
    expect(text).toBe(expected);
  });

  it('gives the same text for objects whose keys arrived in another order', () => {
    // Prepare
    const a = { configMap: { 'a.yaml': { body: 'x' }, 'b.yaml': { body: 'y' } }, hash: 'h' };
    const b = { hash: 'h', configMap: { 'b.yaml': { body: 'y' }, 'a.yaml': { body: 'x' } } };

    // Act / Assess
    expect(stableJson(a)).toBe(stableJson(b));
    expect(JSON.parse(stableJson(a))).toEqual(a);
  });
});

describe('contentId', () => {
  it('is the first 16 bytes of SHA-256 in base64url', () => {
    // Prepare
    const expected = createHash('sha256').update('hello').digest().subarray(0, 16).toString('base64url');

    // Act
    const id = contentId('hello');

    // Assess
    expect(id).toBe(expected);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('gives the same id for a string and its UTF-8 bytes', () => {
    // Act / Assess
    expect(contentId(new TextEncoder().encode('héllo'))).toBe(contentId('héllo'));
  });

  it('gives different ids for different content', () => {
    // Act / Assess
    expect(contentId('{"a":1}')).not.toBe(contentId('{"a":2}'));
  });
});

describe('sha256', () => {
  it('hashes the known test vector for "abc"', () => {
    // Act / Assess
    expect(sha256('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
