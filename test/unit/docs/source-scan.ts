import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** TypeScript files under the given folders, generated code left out. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) {
        if (name !== 'gen' && name !== 'node_modules' && name !== 'cdk.out') walk(path);
      } else if (name.endsWith('.ts')) out.push(path);
    }
  };
  for (const folder of folders) walk(folder);
  return out;
}

/**
 * The environment variables a source file names: `OPAMP_*` and
 * `AWS_ENDPOINT_URL_*` in string literals or as properties (`env.OPAMP_X`,
 * `settings.OPAMP_X = ...`), not identifiers such as `const OPAMP_ACCESS` and
 * not comments.
 */
export function variablesNamed(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const names = [...code.matchAll(/(?:\.|['"`])((?:OPAMP|AWS_ENDPOINT_URL)_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1]!);
  return [...new Set(names)];
}
