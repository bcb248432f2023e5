import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cdk/lib/bundling.js';

/**
 * The stack takes prefixes, key names and service names from the functions'
 * own modules instead of keeping copies. It may only reach pure modules: the
 * CDK app must not load the AWS SDK, Hono or the protocol code to synthesize.
 */
async function functionsModulesOfTheCdkApp(): Promise<Map<string, string[]>> {
  const result = await build({
    entryPoints: ['cdk/bin/app.ts'],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  return new Map(
    Object.entries(result.metafile.inputs)
      .filter(([path]) => path.startsWith('functions/'))
      .map(([path, input]) => [path, input.imports.filter((i) => i.external).map((i) => i.path)]),
  );
}

describe('modules the stack shares with the functions', () => {
  it('are pure: the bucket layout, the table keys and the service names, importing no package', async () => {
    const modules = await functionsModulesOfTheCdkApp();

    expect([...modules.keys()].sort()).toEqual(expect.arrayContaining(['functions/adapters/dynamodb/table-schema.ts', 'functions/core/bucket-layout.ts', 'functions/core/service-names.ts']));
    for (const [path, externals] of modules) {
      expect(path.startsWith('functions/core/') || path === 'functions/adapters/dynamodb/table-schema.ts', path).toBe(true);
      expect(
        externals.filter((e) => !e.startsWith('node:')),
        path,
      ).toEqual([]);
    }
  });
});
