import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLinks, documentationFiles, githubSlug, headingAnchors, links } from './markdown-links.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('documentation links', () => {
  const files = documentationFiles(ROOT);

  it('covers the README and the docs/ tree', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'reference', 'configuration.md'));
    expect(files.length).toBeGreaterThan(10);
  });

  it('keeps the README short: the rest is in docs/', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThan(200);
  });

  it.each(files)('every relative link and anchor in %s resolves', (file) => {
    expect(brokenLinks(ROOT, file)).toEqual([]);
  });
});

describe('GitHub heading anchors', () => {
  it('slugs headings the way GitHub does', () => {
    expect(githubSlug("Signing agents' certificate requests (CSR flow)")).toBe('signing-agents-certificate-requests-csr-flow');
    expect(githubSlug('Walk-through: push a configuration to a Collector')).toBe('walk-through-push-a-configuration-to-a-collector');
    expect(githubSlug('`OPAMP_PORT` and the [fleet API](x.md)')).toBe('opamp_port-and-the-fleet-api');
    expect(githubSlug('Offers, hashes and resends')).toBe('offers-hashes-and-resends');
  });

  it('numbers repeated headings and ignores headings inside code blocks', () => {
    const anchors = headingAnchors('# Title\n## Setup\n```sh\n# not a heading\n```\n## Setup\n');
    expect([...anchors]).toEqual(['title', 'setup', 'setup-1']);
  });

  it('finds links outside code only', () => {
    const found = links('See [a](a.md#x) and ![img](i.png "t").\n`[no](no.md)`\n```\n[no](no.md)\n```\n');
    expect(found.map((l) => l.target)).toEqual(['a.md#x', 'i.png']);
  });
});

describe('the link check', () => {
  const root = mkdtempSync(join(tmpdir(), 'doc-links-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  it('reports a missing page, a missing anchor and a link out of the repository, and passes good links', () => {
    write('README.md', '# Top\n[ok](docs/a.md#two-words) [self](#top) [site](https://example.com/x.md)\n[gone](docs/b.md) [bad anchor](docs/a.md#nope) [out](../x.md)\n');
    write('docs/a.md', '# A\n## Two words\n[back](../README.md#top)\n');

    expect(brokenLinks(root, 'README.md')).toEqual([
      'README.md:3: docs/b.md: no such file',
      'README.md:3: docs/a.md#nope: no heading with anchor #nope',
      'README.md:3: ../x.md: points outside the repository',
    ]);
    expect(brokenLinks(root, join('docs', 'a.md'))).toEqual([]);
  });
});
