// Lists exported names that nothing uses: `npx tsx scripts/checks/dead-exports.ts`.
// A name counts as used when it appears as a word in another source file (tests
// and scripts included) or more than once in its own file. Word matching is
// rough on purpose: it never misses a real use, and may keep a dead export that
// shares its name with something else.
import { readdirSync, readFileSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIRS = ['functions', 'cli', 'cdk'];
const READER_DIRS = [...SOURCE_DIRS, 'scripts', 'test', 'bin'];
const EXPORT = /^export (?:async )?(?:declare )?(?:abstract )?(?:const|let|function\*?|class|type|interface|enum) (\w+)/gm;

function sourceFiles(root: string, dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'gen' || entry.name === 'cdk.out' ? [] : sourceFiles(root, path);
    return /\.(ts|mts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

export interface DeadExport {
  file: string;
  name: string;
}

/** Exports under functions/, cli/ and cdk/ that no file mentions, not even their own. */
export function deadExports(root: string): DeadExport[] {
  const texts = new Map(READER_DIRS.flatMap((dir) => sourceFiles(root, dir)).map((file) => [file, readFileSync(join(root, file), 'utf8')]));
  const dead: DeadExport[] = [];
  for (const [file, text] of texts) {
    if (!SOURCE_DIRS.some((dir) => file.startsWith(`${dir}/`))) continue;
    for (const [, name] of text.matchAll(EXPORT)) {
      const word = new RegExp(`\\b${name}\\b`, 'g');
      const usedElsewhere = [...texts].some(([other, otherText]) => other !== file && word.test(otherText));
      if (!usedElsewhere && (text.match(word)?.length ?? 0) < 2) dead.push({ file, name: name! });
    }
  }
  return dead;
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const dead = deadExports(fileURLToPath(new URL('../../', import.meta.url)));
  for (const { file, name } of dead) process.stdout.write(`${file}: ${name}\n`);
  process.exitCode = dead.length > 0 ? 1 : 0;
}
