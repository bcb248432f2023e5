import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deadExports } from '../../../scripts/checks/dead-exports.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('dead exports', () => {
  it('finds none: every exported name in functions/, cli/ and cdk/ is used somewhere', () => {
    expect(deadExports(ROOT)).toEqual([]);
  });

  const scratch = mkdtempSync(join(tmpdir(), 'opamp-dead-exports-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('reports an export nobody mentions, and not one that a test or its own file uses', () => {
    mkdirSync(join(scratch, 'functions'), { recursive: true });
    mkdirSync(join(scratch, 'test'), { recursive: true });
    writeFileSync(join(scratch, 'functions', 'a.ts'), 'export function unused() {}\nexport const testedOnly = 1;\nexport type Inner = string;\nexport function user(x: Inner) { return x; }\n');
    writeFileSync(join(scratch, 'test', 'a.test.ts'), "import { testedOnly, user } from '../functions/a.js';\n");

    expect(deadExports(scratch)).toEqual([{ file: join('functions', 'a.ts'), name: 'unused' }]);
  });
});
