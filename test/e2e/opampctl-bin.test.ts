import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/**
 * opampctl as an installed package: its bin and prebuilt bundle, and only its
 * runtime dependencies (no tsx, no TypeScript sources), run from an unrelated
 * directory.
 */
describe('opampctl installed', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'opampctl-bin-'));
  const pkg = join(scratch, 'pkg');
  let backend: TestBackend;

  beforeAll(async () => {
    const { dependencies, scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    // The build:cli script as it is, writing into the scratch package rather than this checkout's dist/.
    const [tool, ...args] = scripts['build:cli']!.split(' ');
    expect(tool).toBe('esbuild');
    const outfile = args.findIndex((a) => a.startsWith('--outfile='));
    args[outfile] = `--outfile=${join(pkg, 'dist/opampctl.mjs')}`;
    await run(join(root, 'node_modules/.bin/esbuild'), args, { cwd: root });
    mkdirSync(join(pkg, 'node_modules'), { recursive: true });
    cpSync(join(root, 'bin'), join(pkg, 'bin'), { recursive: true });
    for (const name of Object.keys(dependencies)) {
      mkdirSync(dirname(join(pkg, 'node_modules', name)), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), join(pkg, 'node_modules', name));
    }
    backend = await startTestBackend();
    await new ScriptedAgent(backend.opampUrl).sendFullReport();
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs from another directory without tsx', async () => {
    const elsewhere = mkdtempSync(join(scratch, 'cwd-'));
    const { stdout } = await run(process.execPath, [join(pkg, 'bin/opampctl.mjs'), 'agents', '--api', `${backend.url}/api/v1`, '--json'], { cwd: elsewhere });
    expect((JSON.parse(stdout) as { agents: unknown[] }).agents).toHaveLength(1);
  });

  it('fails as before when there is neither a bundle nor tsx', async () => {
    rmSync(join(pkg, 'dist'), { recursive: true });
    const failure = await run(process.execPath, [join(pkg, 'bin/opampctl.mjs'), '--help'], { cwd: scratch }).catch((error: { stderr: string }) => error);
    expect((failure as { stderr: string }).stderr).toContain('tsx');
  });
});
