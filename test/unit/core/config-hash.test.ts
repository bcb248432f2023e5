import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configContentType, configHash } from '../../../functions/core/config-hash.js';
import { hexSha } from './fleet-fixtures.js';

type HashedFile = { fileName: string; contentType: string; sha256: string };

const fileArb: fc.Arbitrary<HashedFile> = fc.record({
  fileName: fc.string({ minLength: 1, maxLength: 12 }),
  contentType: fc.constantFrom('text/yaml', 'application/json', 'text/plain', 'application/octet-stream'),
  sha256: fc.string({ maxLength: 8 }).map(hexSha),
});
const filesArb = fc.uniqueArray(fileArb, { minLength: 1, maxLength: 8, selector: (f) => f.fileName });

describe('configHash', () => {
  it('is base64 of 32 bytes', () => {
    // Act
    const hash = configHash([{ fileName: 'collector.yaml', contentType: 'text/yaml', sha256: hexSha('receivers: {}') }]);

    // Assess
    expect(Buffer.from(hash, 'base64')).toHaveLength(32);
    expect(Buffer.from(hash, 'base64').toString('base64')).toBe(hash);
  });

  it('gives the same hash for the same files in any order', () => {
    fc.assert(
      fc.property(
        filesArb.chain((files) => fc.tuple(fc.constant(files), fc.shuffledSubarray(files, { minLength: files.length, maxLength: files.length }))),
        ([files, shuffled]) => {
          // Act
          const a = configHash(files);
          const b = configHash(shuffled);

          // Assess
          expect(b).toBe(a);
        },
      ),
    );
  });

  it('ignores fields other than name, content type and content hash (size, object key, version)', () => {
    // Prepare
    const base = { fileName: 'a.yaml', contentType: 'text/yaml', sha256: hexSha('x') };
    const withExtras = { ...base, size: 99, objectKey: 'configs/other/a.yaml', versionId: 'v9' };

    // Act / Assess
    expect(configHash([withExtras])).toBe(configHash([base]));
  });

  it.each<[string, (f: HashedFile) => HashedFile]>([
    ['the file name', (f) => ({ ...f, fileName: `${f.fileName}~` })],
    ['the content type', (f) => ({ ...f, contentType: `${f.contentType}; charset=utf-8` })],
    ['the content hash', (f) => ({ ...f, sha256: hexSha(f.sha256) })],
  ])('changes when %s of any one file changes', (_field, change) => {
    fc.assert(
      fc.property(filesArb, fc.nat(), (files, pick) => {
        // Prepare
        const index = pick % files.length;
        const changed = files.map((f, i) => (i === index ? change(f) : f));
        fc.pre(new Set(changed.map((f) => f.fileName)).size === changed.length);

        // Act
        const before = configHash(files);
        const after = configHash(changed);

        // Assess
        expect(after).not.toBe(before);
      }),
    );
  });

  it('changes when a file is added or removed', () => {
    fc.assert(
      fc.property(filesArb, fileArb, (files, extra) => {
        // Prepare
        fc.pre(!files.some((f) => f.fileName === extra.fileName));

        // Act / Assess
        expect(configHash([...files, extra])).not.toBe(configHash(files));
        expect(configHash(files.slice(1))).not.toBe(configHash(files));
      }),
    );
  });

  it.each<[string, HashedFile[], HashedFile[]]>([
    ['characters moved from the name to the content type', [{ fileName: 'a', contentType: 'bc', sha256: hexSha('x') }], [{ fileName: 'ab', contentType: 'c', sha256: hexSha('x') }]],
    [
      'content types swapped between two files',
      [
        { fileName: 'a', contentType: 'text/yaml', sha256: hexSha('x') },
        { fileName: 'b', contentType: 'text/plain', sha256: hexSha('x') },
      ],
      [
        { fileName: 'a', contentType: 'text/plain', sha256: hexSha('x') },
        { fileName: 'b', contentType: 'text/yaml', sha256: hexSha('x') },
      ],
    ],
    [
      'contents swapped between two files',
      [
        { fileName: 'a', contentType: 'text/yaml', sha256: hexSha('1') },
        { fileName: 'b', contentType: 'text/yaml', sha256: hexSha('2') },
      ],
      [
        { fileName: 'a', contentType: 'text/yaml', sha256: hexSha('2') },
        { fileName: 'b', contentType: 'text/yaml', sha256: hexSha('1') },
      ],
    ],
  ])('tells apart files that differ only in how fields are split: %s', (_name, a, b) => {
    // Act / Assess
    expect(configHash(a)).not.toBe(configHash(b));
  });
});

describe('configContentType', () => {
  it.each<[string, string | undefined, string]>([
    ['collector.yaml', 'text/x-yaml', 'text/x-yaml'],
    ['collector.yaml', 'application/json', 'application/json'],
    ['collector.yaml', 'text/plain; charset=utf-8', 'text/plain; charset=utf-8'],
    ['collector.yaml', '  text/x-yaml  ', 'text/x-yaml'],
    ['collector.yaml', undefined, 'text/yaml'],
    ['collector.yaml', '', 'text/yaml'],
    ['collector.yaml', '   ', 'text/yaml'],
    ['collector.yaml', 'binary/octet-stream', 'text/yaml'],
    ['collector.yaml', 'application/octet-stream', 'text/yaml'],
    ['collector.yaml', 'Application/Octet-Stream', 'text/yaml'],
    ['collector.yml', undefined, 'text/yaml'],
    ['COLLECTOR.YAML', undefined, 'text/yaml'],
    ['settings.json', undefined, 'application/json'],
    ['agent.toml', undefined, 'application/toml'],
    ['pom.xml', undefined, 'application/xml'],
    ['notes.txt', undefined, 'text/plain'],
    ['nginx.conf', undefined, 'text/plain'],
    ['app.cfg', undefined, 'text/plain'],
    ['php.ini', undefined, 'text/plain'],
    ['log4j.properties', undefined, 'text/plain'],
    ['nested/dir/collector.yaml', undefined, 'text/yaml'],
    ['archive.tar.json', undefined, 'application/json'],
    ['binary.bin', undefined, 'application/octet-stream'],
    ['Makefile', undefined, 'application/octet-stream'],
    ['dir.yaml/file', undefined, 'application/octet-stream'],
    ['trailing.', undefined, 'application/octet-stream'],
    ['binary.bin', 'binary/octet-stream', 'application/octet-stream'],
  ])('%s uploaded as %j is %s', (fileName, given, expected) => {
    // Act
    const type = configContentType(fileName, given);

    // Assess
    expect(type).toBe(expected);
  });
});
