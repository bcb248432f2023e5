import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidName, keyViolation, MAX_OBJECT_KEY_BYTES, MAX_SEGMENT_BYTES, nameViolation, pathViolation } from '../../../functions/core/names.js';
import type { NameRule } from '../../../functions/core/names.js';
import { MAX_REJECTED_KEYS, mergeRejectedKeys } from '../../../functions/core/rejected-keys.js';

describe('pathViolation: hostile file names', () => {
  it.each<[string, string, NameRule, RegExp]>([
    ['a parent traversal', '../../assignments/evil.json', 'dot-segment', /".." path segment/],
    ['a deep traversal', '../../../../x', 'dot-segment', /".." path segment/],
    ['a traversal in the middle', 'a/../../b', 'dot-segment', /".." path segment/],
    ['a trailing ".."', 'a/..', 'dot-segment', /".." path segment/],
    ['a "." segment', './a.yaml', 'dot-segment', /"\." path segment/],
    ['just ".."', '..', 'dot-segment', /".." path segment/],
    ['the empty name', '', 'empty', /it is empty/],
    ['a leading "/"', '/etc/passwd', 'empty-segment', /empty path segment/],
    ['a trailing "/"', 'dir/', 'empty-segment', /empty path segment/],
    ['a double "/"', 'a//b', 'empty-segment', /empty path segment/],
    ['a lone "/"', '/', 'empty-segment', /empty path segment/],
    ['a NUL', 'a\u0000.yaml', 'control-character', /U\+0000/],
    ['a newline', 'a\nb', 'control-character', /U\+000A/],
    ['a tab', 'a\tb', 'control-character', /U\+0009/],
    ['an escape', '\u001b[31mred', 'control-character', /U\+001B/],
    ['a DEL', 'a\u007f', 'control-character', /U\+007F/],
    ['a C1 control', 'a\u0085b', 'control-character', /U\+0085/],
    ['a backslash traversal', '..\\..\\x', 'backslash', /backslash/],
    ['a backslash', 'a\\b', 'backslash', /backslash/],
    ['a lone high surrogate', 'a\ud800b', 'invalid-utf8', /not valid UTF-8/],
    ['a lone low surrogate', '\udc00', 'invalid-utf8', /not valid UTF-8/],
    ['a 300-character name', 'f'.repeat(300), 'segment-too-long', /300 bytes, more than the 233/],
    ['a segment one byte over', 'f'.repeat(MAX_SEGMENT_BYTES + 1), 'segment-too-long', /234 bytes/],
    ['78 three-byte characters (234 bytes)', '€'.repeat(78), 'segment-too-long', /234 bytes/],
    ['a key over 1024 bytes in short segments', `${'ab/'.repeat(400)}c`, 'key-too-long', /more than the 1024 S3 takes/],
  ])('refuses %s', (_name, path, rule, message) => {
    // Act
    const violation = pathViolation('file name', path, 'configs/x/');

    // Assess
    expect(violation?.rule).toBe(rule);
    expect(violation?.message).toMatch(message);
    expect(violation?.message).toMatch(/^file name ".*" is not allowed: /s);
  });

  it.each<[string, string]>([
    ['a plain name', 'collector.yaml'],
    ['folders', 'processors/batch.yaml'],
    ['a hidden file', '.hidden'],
    ['dots inside a segment', 'a..b/...'],
    ['spaces', 'my file (copy).yaml'],
    ['unicode', 'café/日本語/😀.yaml'],
    ['233 bytes per segment', 'f'.repeat(MAX_SEGMENT_BYTES)],
    ['77 three-byte characters (231 bytes)', '€'.repeat(77)],
    ['a surrogate pair', '\ud83d\ude00'],
  ])('accepts %s', (_name, path) => {
    // Act / Assess
    expect(pathViolation('file name', path, 'configs/x/')).toBeUndefined();
  });

  it('counts the prefix against the 1024-byte key limit', () => {
    // Prepare
    const path = `${`${'d'.repeat(200)}/`.repeat(5)}${'d'.repeat(9)}`;
    const prefix = 'configs/x/';

    // Act / Assess
    expect(Buffer.byteLength(prefix + path)).toBe(MAX_OBJECT_KEY_BYTES);
    expect(pathViolation('file name', path, prefix)).toBeUndefined();
    expect(pathViolation('file name', `${path}d`, prefix)?.rule).toBe('key-too-long');
  });

  // Segments built from the troublesome pieces and plain text.
  const piece = fc.oneof(fc.constantFrom('..', '.', '', 'a', '\u0000', '\u0001', '\u007f', '\u0085', '\\', '\ud800', 'é', '😀', 'f'.repeat(120)), fc.string({ maxLength: 4 }));
  const segment = fc.array(piece, { maxLength: 3 }).map((parts) => parts.join(''));

  it('never lets a key through that resolves outside its prefix, holds a control character or is too long', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), (parts) => {
        // Prepare
        const path = parts.join('/');

        // Act
        const accepted = pathViolation('file name', path) === undefined;

        // Assess
        if (accepted) {
          const segments = path.split('/');
          expect(segments.every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
          expect(segments.every((s) => Buffer.byteLength(s) <= MAX_SEGMENT_BYTES)).toBe(true);
          expect(Buffer.from(path, 'utf8').toString('utf8')).toBe(path);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may pass
          expect(/[\u0000-\u001f\u007f-\u009f\\]/.test(path)).toBe(false);
          expect(Buffer.byteLength(path)).toBeLessThanOrEqual(MAX_OBJECT_KEY_BYTES);
        }
      }),
    );
  });

  it('shows a long name cut, and control characters escaped, in the message', () => {
    // Act
    const long = pathViolation('file name', 'x'.repeat(300))!;
    const nul = pathViolation('file name', 'a\u0000')!;

    // Assess
    expect(long.message.length).toBeLessThan(250);
    expect(long.message).toContain('(300 characters)');
    expect(nul.message).toContain('"a\\u0000"');
    expect(nul.message).not.toContain('\u0000');
  });
});

describe('keyViolation', () => {
  it.each<[string, NameRule | undefined]>([
    ['configs/x/a.yaml', undefined],
    ['configs/x/../../assignments/evil.json', 'dot-segment'],
    ['configs/x/', 'empty-segment'],
    [`configs/x/${'f'.repeat(300)}`, 'segment-too-long'],
  ])('%j → %s', (key, rule) => {
    // Act / Assess
    expect(keyViolation(key)?.rule).toBe(rule);
  });
});

describe('nameViolation', () => {
  it.each<[string]>([['..'], ['.'], [''], ['a/b'], ['a\u0000'], ['-a'], ['a'.repeat(129)], ['é']])('refuses %j', (name) => {
    // Act
    const violation = nameViolation('configuration', name);

    // Assess
    expect(violation?.rule).toBe('invalid-name');
    expect(violation?.message).toMatch(/configuration names are 1-128 letters, digits/);
    expect(isValidName(name)).toBe(false);
  });

  it('accepts a valid name', () => {
    // Act / Assess
    expect(nameViolation('token', 'ci-1.2_b')).toBeUndefined();
  });
});

describe('mergeRejectedKeys', () => {
  const at = (n: number) => Date.UTC(2026, 0, 1) + n;

  it('keeps the newest first, one entry per key, and writes nothing for a repeat', () => {
    // Prepare
    const first = mergeRejectedKeys(
      [],
      [
        { key: 'configs/a', reason: 'r1', at: at(1) },
        { key: 'configs/b', reason: 'r2', at: at(2) },
      ],
    );

    // Act
    const repeat = mergeRejectedKeys(first.list, [{ key: 'configs/a', reason: 'r1', at: at(3) }]);
    const changed = mergeRejectedKeys(first.list, [{ key: 'configs/a', reason: 'other', at: at(4) }]);

    // Assess
    expect(first).toEqual({
      changed: true,
      list: [
        { key: 'configs/b', reason: 'r2', at: at(2) },
        { key: 'configs/a', reason: 'r1', at: at(1) },
      ],
    });
    expect(repeat.changed).toBe(false);
    expect(repeat.list).toEqual(first.list);
    expect(changed.list.map((e) => [e.key, e.reason])).toEqual([
      ['configs/a', 'other'],
      ['configs/b', 'r2'],
    ]);
  });

  it(`keeps the latest ${MAX_REJECTED_KEYS}`, () => {
    // Act
    const { list } = mergeRejectedKeys(
      [],
      Array.from({ length: 150 }, (_, i) => ({ key: `configs/k${i}`, reason: 'r', at: at(i) })),
    );

    // Assess
    expect(list).toHaveLength(MAX_REJECTED_KEYS);
    expect(list[0]!.key).toBe('configs/k149');
    expect(list.at(-1)!.key).toBe('configs/k50');
  });

  it('stays within one DynamoDB item even for keys that JSON escapes six-fold', () => {
    // Act
    const { list } = mergeRejectedKeys(
      [],
      Array.from({ length: 150 }, (_, i) => ({ key: `${i}${'\u0001'.repeat(2000)}`, reason: 'x'.repeat(1000), at: at(i) })),
    );

    // Assess
    expect(list.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(list))).toBeLessThan(350_000);
    expect(list.every((e) => e.key.length <= 1024 && e.reason.length <= 300)).toBe(true);
  });
});
