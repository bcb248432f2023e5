import { describe, expect, it } from 'vitest';
import { byKey, byName, compareStrings } from '../../../functions/core/compare.js';

describe('compareStrings', () => {
  it('orders by UTF-16 code units, as DynamoDB sort keys do, not by locale', () => {
    const words = ['b', 'é', 'B', '_x', 'a', 'Z', '10', '9'];

    expect([...words].sort(compareStrings)).toEqual(['10', '9', 'B', 'Z', '_x', 'a', 'b', 'é']);
    expect(compareStrings('same', 'same')).toBe(0);
  });

  it('orders entries by key and records by name the same way', () => {
    expect(
      Object.entries({ b: 1, B: 2, a: 3 })
        .sort(byKey)
        .map(([k]) => k),
    ).toEqual(['B', 'a', 'b']);
    expect([{ name: 'b' }, { name: 'B' }, { name: 'a' }].sort(byName).map((r) => r.name)).toEqual(['B', 'a', 'b']);
  });
});
