import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const committed = join(root, 'functions/gen');
const bin = join(root, 'node_modules/.bin');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('generated protobuf code', () => {
  const out = mkdtempSync(join(tmpdir(), 'opamp-gen-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('matches what `npm run generate` produces from proto/', () => {
    // Same plugin and options as proto/buf.gen.yaml, written to a scratch folder.
    const template = JSON.stringify({
      version: 'v2',
      plugins: [{ local: 'protoc-gen-es', out, opt: ['target=ts', 'import_extension=js'] }],
    });
    execFileSync(join(bin, 'buf'), ['generate', '--template', template], {
      cwd: join(root, 'proto'),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      stdio: 'pipe',
    });
    const expected = filesUnder(out);
    expect(filesUnder(committed)).toEqual(expected);
    for (const file of expected) {
      expect(readFileSync(join(committed, file), 'utf8'), `functions/gen/${file} is stale: run npm run generate`).toBe(readFileSync(join(out, file), 'utf8'));
    }
  });

  it('pins the runtime and the generator to the same version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const runtime = pkg.dependencies['@bufbuild/protobuf'];
    expect(runtime).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.devDependencies['@bufbuild/protoc-gen-es']).toBe(runtime);
    expect(readFileSync(join(committed, 'opamp/v1/opamp_pb.ts'), 'utf8')).toContain(`protoc-gen-es v${runtime}`);
  });
});
