import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** The modules an entry file pulls in, as the Lambda bundler would see them. */
async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
  return Object.keys(result.metafile.inputs);
}

describe('where the console is served', () => {
  it('the public agent function and the fleet API function do not contain it', async () => {
    for (const entry of ['functions/entry/opamp.lambda.ts', 'functions/entry/api.lambda.ts']) {
      const inputs = await bundledInputs(entry);
      expect(
        inputs.some((path) => path.startsWith('functions/entry/')),
        entry,
      ).toBe(true);
      expect(
        inputs.filter((path) => path.startsWith('functions/console/')),
        entry,
      ).toEqual([]);
    }
  });

  it('the local server does', async () => {
    const inputs = await bundledInputs('functions/entry/local-server.ts');
    expect(inputs).toContain('functions/console/app.ts');
  });
});
