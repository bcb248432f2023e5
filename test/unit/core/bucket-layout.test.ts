import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignmentObjectKey, classifyObjectKey, comparableSequencer, configObjectKey, decodeEventKey } from '../../../functions/core/bucket-layout.js';
import type { BucketObject } from '../../../functions/core/bucket-layout.js';
import { isValidName } from '../../../functions/core/names.js';

describe('classifyObjectKey', () => {
  it.each<[string, Exclude<BucketObject, { kind: 'ignored' | 'rejected' }>]>([
    ['configs/checkout/collector.yaml', { kind: 'config-file', configName: 'checkout', fileName: 'collector.yaml' }],
    ['configs/checkout/processors/batch.yaml', { kind: 'config-file', configName: 'checkout', fileName: 'processors/batch.yaml' }],
    ['configs/checkout/a/b/c/d.yaml', { kind: 'config-file', configName: 'checkout', fileName: 'a/b/c/d.yaml' }],
    ['configs/my_config-1.2/x', { kind: 'config-file', configName: 'my_config-1.2', fileName: 'x' }],
    ['configs/default/with space.yaml', { kind: 'config-file', configName: 'default', fileName: 'with space.yaml' }],
    ['configs/default/.hidden', { kind: 'config-file', configName: 'default', fileName: '.hidden' }],
    [`configs/${'a'.repeat(128)}/x.yaml`, { kind: 'config-file', configName: 'a'.repeat(128), fileName: 'x.yaml' }],
    ['assignments/checkout.json', { kind: 'assignment', name: 'checkout' }],
    ['assignments/canary-1.2_b.json', { kind: 'assignment', name: 'canary-1.2_b' }],
    ['assignments/x.json.json', { kind: 'assignment', name: 'x.json' }],
  ])('%s is %j', (key, expected) => {
    // Act / Assess
    expect(classifyObjectKey(key)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['a folder marker of a configuration', 'configs/checkout/', /folder marker/],
    ['a folder marker inside a configuration', 'configs/checkout/processors/', /folder marker/],
    ['the configs/ marker itself', 'configs/', /folder marker/],
    ['the assignments/ marker', 'assignments/', /folder marker/],
    ['another prefix', 'blobs/agent/section', /outside configs\/.*assignments\//],
    ['a prefix that differs in case', 'Configs/checkout/x.yaml', /outside/],
    ['a key that only starts like configs', 'configsx/checkout/x.yaml', /outside/],
    ['the bucket root', 'README.md', /outside/],
    ['a traversal outside every prefix', '../configs/x/y.yaml', /outside/],
  ])('ignores %s (%s)', (_name, key, reason) => {
    // Act
    const result = classifyObjectKey(key);

    // Assess
    expect(result.kind).toBe('ignored');
    expect(result.kind === 'ignored' && result.reason).toMatch(reason);
  });

  it.each<[string, string, RegExp]>([
    ['a file directly under configs/', 'configs/collector.yaml', /configs\/<config-name>\/<file-name>/],
    ['a configuration name with a space', 'configs/my config/x.yaml', /"my config" is not a valid configuration name/],
    ['a configuration name starting with a dot', 'configs/.git/config', /is not a valid configuration name/],
    ['an empty configuration name', 'configs//x.yaml', /empty path segment/],
    ['a configuration name of 129 characters', `configs/${'a'.repeat(129)}/x.yaml`, /is not a valid configuration name/],
    ['a ".." file name', 'configs/x/../../assignments/evil.json', /".." path segment/],
    ['a "." segment', 'configs/x/./a.yaml', /"\." path segment/],
    ['a double slash in a file name', 'configs/x/a//b.yaml', /empty path segment/],
    ['a NUL in a file name', 'configs/x/a\u0000.yaml', /control character \(U\+0000\)/],
    ['a DEL in a file name', 'configs/x/a\u007f.yaml', /control character \(U\+007F\)/],
    ['a backslash', 'configs/x/..\\a.yaml', /backslash/],
    ['a lone surrogate', 'configs/x/\ud800.yaml', /not valid UTF-8/],
    ['a 300-byte file name', `configs/x/${'f'.repeat(300)}`, /more than the 233 allowed per segment/],
    ['a key over 1024 bytes', `configs/x/${'d/'.repeat(510)}f`, /more than the 1024 S3 takes/],
    ['an assignment that is not .json', 'assignments/checkout.yaml', /assignments\/<name>.json/],
    ['an assignment with an upper-case extension', 'assignments/checkout.JSON', /assignments\/<name>.json/],
    ['an assignment named only ".json"', 'assignments/.json', /assignments\/<name>.json/],
    ['an assignment in a subfolder', 'assignments/team/checkout.json', /assignments\/<name>.json/],
    ['an assignment with a space', 'assignments/my route.json', /assignments\/<name>.json/],
    ['a package without a file', 'packages/ext/1.0.0', /packages\/<package>\/<version>\/<file>/],
    ['a traversal in a package', 'packages/ext/1.0.0/../../../assignments/a.json', /".." path segment/],
    ['another file in a certificate folder', 'certificates/tls/notes.txt', /cert.pem, key.pem or ca.pem/],
  ])('rejects %s (%j)', (_name, key, reason) => {
    // Act
    const result = classifyObjectKey(key);

    // Assess
    expect(result.kind).toBe('rejected');
    expect(result.kind === 'rejected' && result.reason).toMatch(reason);
  });

  it('reads back what configObjectKey and assignmentObjectKey write', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
        fc
          .array(
            fc.stringMatching(/^[a-z0-9.]{1,6}$/).filter((s) => s !== '.' && s !== '..'),
            { minLength: 1, maxLength: 3 },
          )
          .map((parts) => parts.join('/')),
        (name, fileName) => {
          // Act / Assess
          expect(classifyObjectKey(configObjectKey(name, fileName))).toEqual({ kind: 'config-file', configName: name, fileName });
          expect(classifyObjectKey(assignmentObjectKey(name))).toEqual({ kind: 'assignment', name });
        },
      ),
    );
  });
});

describe('isValidName', () => {
  it.each<[string, boolean]>([
    ['a', true],
    ['A1', true],
    ['9', true],
    ['a.b_c-d', true],
    ['a'.repeat(128), true],
    ['', false],
    ['.a', false],
    ['-a', false],
    ['_a', false],
    ['a b', false],
    ['a/b', false],
    ['a#b', false],
    ['a'.repeat(129), false],
    ['é', false],
  ])('%j → %s', (name, valid) => {
    // Act / Assess
    expect(isValidName(name)).toBe(valid);
  });
});

describe('decodeEventKey', () => {
  it.each<[string, string]>([
    ['configs/checkout/collector.yaml', 'configs/checkout/collector.yaml'],
    ['configs/checkout/my+file.yaml', 'configs/checkout/my file.yaml'],
    ['configs/checkout/a+b+c', 'configs/checkout/a b c'],
    ['configs/checkout/a%2Bb.yaml', 'configs/checkout/a+b.yaml'],
    ['configs/checkout/100%25.yaml', 'configs/checkout/100%.yaml'],
    ['configs/checkout/caf%C3%A9.yaml', 'configs/checkout/café.yaml'],
    ['configs/checkout/dir%2Ffile.yaml', 'configs/checkout/dir/file.yaml'],
    ['configs/checkout/%28copy%29+1.yaml', 'configs/checkout/(copy) 1.yaml'],
    ['assignments/a%3Db.json', 'assignments/a=b.json'],
  ])('%s → %s', (encoded, key) => {
    // Act / Assess
    expect(decodeEventKey(encoded)).toBe(key);
  });

  it('inverts the encoding S3 uses in event notifications (URL-encoding, spaces as "+")', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (key) => {
        // Prepare
        const encoded = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

        // Act / Assess
        expect(decodeEventKey(encoded)).toBe(key);
      }),
    );
  });
});

describe('comparableSequencer', () => {
  it.each<[string, string, string]>([
    ['a shorter sequencer is older', 'FF', '100'],
    ['a shorter sequencer is older (S3-like lengths)', '0055AEBB1F8D9A2B31', '0055AEBB1F8D9A2B3100'],
    ['same length, plain order', '0055AEBB1F8D9A2B31', '0055AEBB1F8D9A2B32'],
    ['leading zeros do not make a sequencer newer', '00000000000000000FFF', '1000'],
    ['case does not matter', 'abc', 'ABD'],
    ['one hex digit carries into the next length', 'FFFFFFFFFFFFFFFF', '10000000000000000'],
  ])('%s: %s < %s', (_name, older, newer) => {
    // Act / Assess
    expect(comparableSequencer(older) < comparableSequencer(newer)).toBe(true);
    expect(comparableSequencer(newer) < comparableSequencer(older)).toBe(false);
  });

  it.each<[string, string]>([
    ['00ff', 'FF'],
    ['abc', 'ABC'],
    ['0', '0000'],
  ])('%s and %s are the same sequencer', (a, b) => {
    // Act / Assess
    expect(comparableSequencer(a)).toBe(comparableSequencer(b));
  });

  it('orders sequencers as the hexadecimal numbers they are', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 124n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 124n) - 1n }), (a, b) => {
        // Prepare
        const [x, y] = [a.toString(16), b.toString(16).toUpperCase()];

        // Act
        const [cx, cy] = [comparableSequencer(x), comparableSequencer(y)];

        // Assess
        expect(Math.sign(cx < cy ? -1 : cx > cy ? 1 : 0)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});
