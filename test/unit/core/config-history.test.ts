import { describe, expect, it } from 'vitest';
import { configVersionOf, configMetaOfVersion, hashUrl, historyBlobKey, parseConfigHash, versionChanges } from '../../../functions/core/config-history.js';
import { configHash } from '../../../functions/core/config-hash.js';
import { hexSha } from './fleet-fixtures.js';

const file = (fileName: string, content: string, contentType = 'text/yaml') => ({ fileName, sha256: hexSha(content), size: content.length, contentType });

describe('config history', () => {
  it('keeps file copies under config-history/ by content hash, and refuses anything else', () => {
    expect(historyBlobKey(hexSha('a'))).toBe(`config-history/${hexSha('a')}`);
    expect(() => historyBlobKey('../agent-state/x')).toThrow(/not a hex SHA-256/);
  });

  it('records a version with its files sorted and the hash the fleet state gives the same files', () => {
    // Act
    const version = configVersionOf('web', [file('z.yaml', 'z'), file('a.yaml', 'a')], 1_000, 'bucket');

    // Assess
    expect(version.files.map((f) => f.fileName)).toEqual(['a.yaml', 'z.yaml']);
    expect(version.hash).toBe(configHash(version.files));
    expect(version).toMatchObject({ configName: 'web', recordedAt: 1_000, principal: 'bucket' });
  });

  it('serves a version from its history copies', () => {
    // Arrange
    const version = configVersionOf('web', [file('b.yaml', 'b'), file('a.json', '{}', 'application/json')], 1_000);

    // Act
    const meta = configMetaOfVersion(version);

    // Assess
    expect(meta).toEqual({
      name: 'web',
      hash: version.hash,
      files: [
        { fileName: 'a.json', objectKey: `config-history/${hexSha('{}')}`, sha256: hexSha('{}'), size: 2, contentType: 'application/json', source: 'history' },
        { fileName: 'b.yaml', objectKey: `config-history/${hexSha('b')}`, sha256: hexSha('b'), size: 1, contentType: 'text/yaml', source: 'history' },
      ],
    });
    // The hash agents get is the one the same files in the bucket give.
    expect(configHash(meta.files)).toBe(version.hash);
  });

  it('names the files a version adds, removes and changes (content or content type)', () => {
    // Arrange
    const before = configVersionOf('web', [file('keep', 'k'), file('gone', 'g'), file('edit', '1'), file('retype', 'r')], 1);
    const after = configVersionOf('web', [file('keep', 'k'), file('new', 'n'), file('edit', '2'), file('retype', 'r', 'text/plain')], 2);

    // Act / Assess
    expect(versionChanges(before, after)).toEqual({ added: ['new'], removed: ['gone'], changed: ['edit', 'retype'] });
    expect(versionChanges(undefined, after)).toEqual({ added: ['edit', 'keep', 'new', 'retype'], removed: [], changed: [] });
    expect(versionChanges(after, after)).toEqual({ added: [], removed: [], changed: [] });
  });

  it('reads hashes in URLs as base64url, base64 (padded or not) or hex, and nothing else', () => {
    // Arrange
    const hash = configHash([file('a', 'a')]);
    const bytes = Buffer.from(hash, 'base64');

    // Act / Assess
    expect(parseConfigHash(hashUrl(hash))).toBe(hash);
    expect(parseConfigHash(hash)).toBe(hash);
    expect(parseConfigHash(hash.replace(/=$/, ''))).toBe(hash);
    expect(parseConfigHash(bytes.toString('hex'))).toBe(hash);
    expect(hashUrl(hash)).not.toMatch(/[+/=]/);
    for (const bad of ['', 'abc', `${hashUrl(hash)}AAAA`, 'g'.repeat(64), `${hashUrl(hash).slice(0, 42)}!`]) expect(parseConfigHash(bad)).toBeUndefined();
  });
});
