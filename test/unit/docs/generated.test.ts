import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_SETTINGS, LOCAL_SETTINGS } from '../../../functions/config.js';
import { fillBlocks, generatedBlocks, OTHER_VARIABLES } from '../../../scripts/docs/pages.js';
import { sourceFiles, variablesNamed } from './source-scan.js';

const ROOT = join(import.meta.dirname, '../../..');
const pages = await generatedBlocks();

describe('generated reference pages', () => {
  it.each(Object.keys(pages))('%s is up to date (npm run docs rewrites it)', (page) => {
    const current = readFileSync(join(ROOT, page), 'utf8');
    expect(fillBlocks(current, pages[page]!, page)).toBe(current);
  });

  it('rewrites only the blocks between the markers, and refuses a page without them', () => {
    const page = 'intro\n<!-- BEGIN GENERATED: t -->\nold table\n<!-- END GENERATED: t -->\noutro\n';
    const filled = fillBlocks(page, { t: '| new |' });
    expect(filled).toMatch(/^intro\n<!-- BEGIN GENERATED: t -->\n.*\n\n\| new \|\n\n<!-- END GENERATED: t -->\noutro\n$/);
    expect(fillBlocks(filled, { t: '| new |' })).toBe(filled);
    expect(() => fillBlocks('no markers', { t: 'x' }, 'p.md')).toThrow('p.md lacks the markers');
  });

  it('lists every declared setting with its default in the configuration reference', () => {
    const reference = pages['docs/reference/configuration.md']!.settings!;
    for (const declared of Object.values({ ...BACKEND_SETTINGS, ...LOCAL_SETTINGS })) {
      expect(reference).toContain(`| \`${declared.name}\` |`);
    }
    expect(reference).toContain('| `OPAMP_CONFIG_MAX_OFFERS` | `3` | integer >= 1 |');
    expect(reference).toContain('| `OPAMP_PUBLIC_URL` | unset |');
  });

  it('shows the usage opampctl prints', () => {
    expect(pages['docs/reference/opampctl.md']!.usage).toContain('Usage: opampctl <command> [arguments] [options]');
  });
});

describe('settings the code reads', () => {
  const declared = new Set([...Object.values({ ...BACKEND_SETTINGS, ...LOCAL_SETTINGS }).map((s) => s.name), ...OTHER_VARIABLES.map((v) => v.name)]);

  it('are all declared (functions/config.ts) or documented (scripts/docs/pages.ts)', () => {
    const undeclared = sourceFiles(ROOT, ['functions', 'cli', 'cdk'])
      .flatMap((file) => variablesNamed(readFileSync(join(ROOT, file), 'utf8')).map((name) => ({ file, name })))
      .filter(({ name }) => !declared.has(name));
    expect(undeclared).toEqual([]);
  });

  it('are found wherever the code names them', () => {
    const code = `const a = env.OPAMP_ONE; const b = process.env['OPAMP_TWO'];\n settings.OPAMP_THREE = '1'; ['k', 'OPAMP_FOUR'];\nconst OPAMP_ACCESS = {}; // OPAMP_IN_COMMENT`;
    expect(variablesNamed(code)).toEqual(['OPAMP_ONE', 'OPAMP_TWO', 'OPAMP_THREE', 'OPAMP_FOUR']);
  });
});
