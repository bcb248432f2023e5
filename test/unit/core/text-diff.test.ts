import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, splitLines, unifiedDiff } from '../../../functions/core/text-diff.js';

/** What `diff -u` prints for the same texts, without its time stamps. */
function gnuDiff(oldText: string, newText: string, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'text-diff-'));
  writeFileSync(join(dir, 'old'), oldText);
  writeFileSync(join(dir, 'new'), newText);
  try {
    execFileSync('diff', ['-u', '--label', `a/${name}`, '--label', `b/${name}`, join(dir, 'old'), join(dir, 'new')], { encoding: 'utf8' });
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

const hasDiff = (() => {
  try {
    execFileSync('diff', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

/** Applies an edit script to its first text: must give the second. */
function apply(ops: ReturnType<typeof diffLines>): { before: string; after: string } {
  return {
    before: (ops ?? [])
      .filter((op) => op.kind !== '+')
      .map((op) => op.line)
      .join(''),
    after: (ops ?? [])
      .filter((op) => op.kind !== '-')
      .map((op) => op.line)
      .join(''),
  };
}

const lines = (n: number, f = (i: number) => `line ${i}`) => `${Array.from({ length: n }, (_, i) => f(i + 1)).join('\n')}\n`;

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff({ name: 'c.yaml', text: 'a: 1\n' }, { name: 'c.yaml', text: 'a: 1\n' })).toBe('');
  });

  it('shows one change with three lines of context around it', () => {
    // Arrange
    const before = lines(10);
    const after = before.replace('line 5\n', 'line five\n');

    // Act
    const diff = unifiedDiff({ name: 'c.yaml', text: before }, { name: 'c.yaml', text: after });

    // Assess
    expect(diff).toBe(['--- a/c.yaml', '+++ b/c.yaml', '@@ -2,7 +2,7 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+line five', ' line 6', ' line 7', ' line 8', ''].join('\n'));
  });

  it.runIf(hasDiff)('matches diff -u on edits far apart, near each other, at both ends and at a missing final newline', () => {
    const base = lines(40);
    const cases: Array<[string, string]> = [
      [base, base.replace('line 3\n', 'three\n').replace('line 30\n', '')],
      [base, base.replace('line 10\n', 'ten\n').replace('line 16\n', 'sixteen\n')],
      [base, base.replace('line 10\n', 'ten\n').replace('line 17\n', 'seventeen\n')],
      [base, `first\n${base}last\n`],
      [base, base.slice(0, -1)],
      ['', 'only\n'],
      ['a\nb\nc\n', 'x\ny\n'],
    ];
    for (const [before, after] of cases) {
      expect(unifiedDiff({ name: 'f.txt', text: before }, { name: 'f.txt', text: after })).toBe(gnuDiff(before, after, 'f.txt'));
    }
  });

  it('shows an added file against /dev/null and a removed one the other way', () => {
    expect(unifiedDiff(undefined, { name: 'new.yaml', text: 'a: 1\n' })).toBe('--- /dev/null\n+++ b/new.yaml\n@@ -0,0 +1 @@\n+a: 1\n');
    expect(unifiedDiff({ name: 'old.yaml', text: 'a: 1\n' }, undefined)).toBe('--- a/old.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-a: 1\n');
  });

  it('says only that large files differ, with their sizes and hashes', () => {
    // Arrange
    const before = 'x'.repeat(2000);
    const after = 'y'.repeat(3000);

    // Act
    const diff = unifiedDiff({ name: 'big.bin', text: before }, { name: 'big.bin', text: after }, { maxBytes: 1000 });

    // Assess
    expect(diff).toMatch(/^Files a\/big\.bin and b\/big\.bin differ \(2000 bytes, sha256 [0-9a-f]{12} -> 3000 bytes, sha256 [0-9a-f]{12}\)\n$/);
  });

  it('gives up on texts that differ in more lines than maxEdits, quickly', () => {
    // Arrange: 20,000 lines that all differ
    const before = lines(20_000);
    const after = lines(20_000, (i) => `other ${i}`);

    // Act
    const started = Date.now();
    const diff = unifiedDiff({ name: 'f', text: before }, { name: 'f', text: after });

    // Assess
    expect(diff).toMatch(/^Files a\/f and b\/f differ/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('diffs a long file with a few changes far apart', () => {
    // Arrange
    const before = lines(50_000);
    const after = before.replace('line 100\n', 'changed\n').replace('line 49000\n', 'changed too\n');

    // Act
    const diff = unifiedDiff({ name: 'f', text: before }, { name: 'f', text: after });

    // Assess
    expect(diff).toContain('@@ -97,7 +97,7 @@');
    expect(diff).toContain('@@ -48997,7 +48997,7 @@');
  });
});

describe('diffLines', () => {
  it('gives a script that turns the first text into the second, with the fewest edits on small alphabets', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 12 }).map((ls) => ls.map((l) => `${l}\n`).join(''));
    fc.assert(
      fc.property(text, text, (before, after) => {
        // Act
        const ops = diffLines(splitLines(before), splitLines(after), 1000);

        // Assess
        expect(apply(ops)).toEqual({ before, after });
        const a = splitLines(before);
        const b = splitLines(after);
        const kept = (ops ?? []).filter((op) => op.kind === ' ').length;
        expect(kept).toBe(lcsLength(a, b));
      }),
    );
  });
});

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
      diagonal = up;
    }
  }
  return row[b.length]!;
}
