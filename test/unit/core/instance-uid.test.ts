import { describe, expect, it } from 'vitest';
import { INSTANCE_UID_BYTES, instanceUidFromText, instanceUidToText, isCanonicalInstanceUid, isInstanceUidBytes } from '../../../functions/core/instance-uid.js';
import { AGENT_UID, AGENT_UID_TEXT, hexBytes } from './fixtures.js';

describe('instanceUidToText', () => {
  it('prints 16 bytes as lowercase 8-4-4-4-12 hex', () => {
    // Act
    const text = instanceUidToText(AGENT_UID);

    // Assess
    expect(text).toBe(AGENT_UID_TEXT);
  });

  it('prints bytes that are not an RFC 9562 UUID as well', () => {
    // Prepare
    const bytes = hexBytes('ffffffffffffffffffffffffffffffff');

    // Act
    const text = instanceUidToText(bytes);

    // Assess
    expect(text).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('reads only the view it is given, not the whole underlying buffer', () => {
    // Prepare
    const buffer = new Uint8Array(32).fill(0xaa);
    buffer.set(AGENT_UID, 8);
    const view = buffer.subarray(8, 24);

    // Act
    const text = instanceUidToText(view);

    // Assess
    expect(text).toBe(AGENT_UID_TEXT);
  });

  it.each([0, 15, 17])('throws a RangeError for %i bytes', (length) => {
    // Act
    const act = () => instanceUidToText(new Uint8Array(length));

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('instanceUidFromText', () => {
  it.each([
    [AGENT_UID_TEXT, AGENT_UID],
    [AGENT_UID_TEXT.toUpperCase(), AGENT_UID],
    ['00000000-0000-0000-0000-000000000000', new Uint8Array(16)],
  ])('parses %s', (text, expected) => {
    // Act
    const bytes = instanceUidFromText(text);

    // Assess
    expect(bytes).toEqual(expected);
    expect(bytes).toHaveLength(INSTANCE_UID_BYTES);
  });

  it.each([
    '',
    '01890a5dac96774bbcceb302099a8057',
    '{01890a5d-ac96-774b-bcce-b302099a8057}',
    '01890a5d-ac96-774b-bcce-b302099a805',
    '01890a5d-ac96-774b-bcce-b302099a80577',
    '01890a5d-ac96-774b-bcce-b302099a805g',
    ' 01890a5d-ac96-774b-bcce-b302099a8057',
  ])('returns undefined for %j', (text) => {
    // Act
    const bytes = instanceUidFromText(text);

    // Assess
    expect(bytes).toBeUndefined();
    expect(isCanonicalInstanceUid(text)).toBe(false);
  });

  it('round-trips with instanceUidToText', () => {
    // Prepare
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);

    // Act
    const back = instanceUidFromText(instanceUidToText(bytes));

    // Assess
    expect(back).toEqual(bytes);
  });
});

describe('isInstanceUidBytes', () => {
  it.each([
    [0, false],
    [15, false],
    [16, true],
    [17, false],
  ])('%i bytes → %s', (length, expected) => {
    // Act / Assess
    expect(isInstanceUidBytes(new Uint8Array(length))).toBe(expected);
  });
});
