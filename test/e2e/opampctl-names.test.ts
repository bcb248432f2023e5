import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/api-client.js';
import { main } from '../../cli/opampctl.js';

const root = join(import.meta.dirname, '../..');

describe('opampctl checks names before any request', () => {
  // A fleet API stand-in that only counts what reaches it: nothing should.
  const requests: string[] = [];
  let server: Server;
  let url: string;
  const scratch = mkdtempSync(join(tmpdir(), 'opampctl-names-'));
  const file = join(scratch, 'a.yaml');

  beforeAll(async () => {
    writeFileSync(file, 'a: 1\n');
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"hash":"00"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  });

  async function refused(...args: string[]): Promise<string> {
    requests.length = 0;
    const error = await main([...args, '--api', url, '--wait', '0'], () => {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect(requests).toEqual([]);
    return (error as Error).message;
  }

  it.each<[string, string[], RegExp]>([
    ['a traversal in a file name', ['config', 'upload', 'x', `${'FILE'}=../../assignments/y.json`], /file name "..\/..\/assignments\/y.json" is not allowed: it has a ".." path segment/],
    ['a 300-character file name', ['config', 'upload', 'x', `FILE=${'f'.repeat(300)}`], /233 allowed per segment/],
    ['a NUL in a file name', ['config', 'upload', 'x', 'FILE=a\u0000b'], /control character \(U\+0000\)/],
    ['a double slash', ['config', 'upload', 'x', 'FILE=a//b'], /empty path segment/],
    ['a configuration name with a traversal', ['config', 'upload', '..', 'FILE'], /configuration name ".." is not valid/],
    ['a configuration name to delete', ['config', 'delete', 'a/b'], /configuration name "a\/b" is not valid/],
    ['a package version', ['package', 'upload', 'ext', '../1', 'FILE'], /package version "..\/1" is not valid/],
    ['a package name', ['package', 'delete', '..', '1.0'], /package name ".." is not valid/],
    ['a settings name', ['settings', 'show', '.x'], /settings name ".x" is not valid/],
    ['a certificate name', ['certificate', 'delete', 'a b'], /certificate name "a b" is not valid/],
    ['a token name', ['token', 'create', '../t'], /token name "..\/t" is not valid/],
    ['an assignment name', ['unassign', 'a\u0001'], /assignment name "a\\u0001" is not valid/],
    ['a configuration named by assign', ['assign', 'a', '--config', '../x'], /configuration name "..\/x" is not valid/],
  ])('refuses %s', async (_name, args, message) => {
    // Act
    const text = await refused(...args.map((a) => a.replace('FILE', file)));

    // Assess
    expect(text).toMatch(message);
  });

  it('checks the file name before reading the file', async () => {
    // Act
    const text = await refused('config', 'upload', 'x', `${join(scratch, 'missing.yaml')}=../evil`);

    // Assess
    expect(text).toMatch(/".." path segment/);
  });

  it('sends a valid upload', async () => {
    // Prepare
    requests.length = 0;

    // Act
    await main(['config', 'upload', 'x', `${file}=dir/café.yaml`, '--api', url, '--wait', '0'], () => {});

    // Assess
    expect(requests).toEqual(['PUT /api/v1/configs/x']);
  });

  it('exits non-zero with the rule on stderr', async () => {
    // Prepare
    requests.length = 0;

    // Act
    const failure = await promisify(execFile)(process.execPath, [join(root, 'bin/opampctl.mjs'), 'config', 'upload', 'x', `${file}=../../assignments/y.json`, '--api', url], { cwd: root }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    // Assess
    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim()).toBe('opampctl: file name "../../assignments/y.json" is not allowed: it has a ".." path segment; "." and ".." are not allowed');
    expect(requests).toEqual([]);
  });
});
