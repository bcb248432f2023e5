import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS, commandUsage, main, UsageError, usageText } from '../../../cli/opampctl.js';

const root = join(import.meta.dirname, '../../..');

describe('opampctl command table', () => {
  // A fleet API stand-in that records what reaches it and answers every request the same.
  const requests: string[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"tokens":[],"name":"t","agents":[],"versions":[],"id":"1","expiresAt":"x"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const run = (...args: string[]) => main([...args, '--api', url, '--wait', '0'], () => {});
  const refusal = (...args: string[]) =>
    run(...args).then(
      () => undefined,
      (error: unknown) => error,
    );

  it.each<[string, string[], RegExp]>([
    ['an option of another command', ['token', 'revoke', 'x', '--deliverable'], /^token revoke does not take --deliverable$/],
    ['a listing option on a show command', ['agent', '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6', '--selector', 'a=b'], /^agent does not take --selector$/],
    ['an option no command takes', ['configs', '--colour', 'blue'], /^configs does not take --colour$/],
    ['an option without its value', ['agents', '--limit'], /^--limit needs a value$/],
    ['a value for a flag', ['tokens', '--json=yes'], /^--json takes no value$/],
    ['an extra argument', ['configs', 'web'], /^too many arguments: web$/],
    ['a missing argument', ['config', 'upload', 'web'], /^missing argument: config upload <name> <file>\.\.\./],
    ['a group word alone', ['token'], /^token takes create, agents, revoke$/],
    ['an unknown command', ['frobnicate'], /^unknown command "frobnicate"/],
    ['a --wait that is not a number', ['tokens', '--wait', 'soon'], /^--wait takes a number of seconds$/],
    ['a config hash that is no hash', ['config', 'diff', 'web', 'abc'], /^"abc" is not a config hash/],
    ['a history limit below 1', ['config', 'history', 'web', '--limit', '0'], /^--limit takes a positive integer$/],
  ])('refuses %s as a usage error, sending nothing', async (_what, args, message) => {
    // Act
    const error = await main([...args, '--api', url], () => {}).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect(requests).toEqual([]);
  });

  it('checks names before it looks the API up in a stack', async () => {
    // Act: a stack lookup would call CloudFormation; the name is refused first.
    const error = await main(['config', 'delete', 'a/b', '--stack', 'no-such-stack', '--region', 'eu-west-1'], () => {}).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect((error as Error).message).toMatch(/^configuration name "a\/b" is not valid/);
  });

  it('passes the options a command takes', async () => {
    // Act
    await run('token', 'revoke', 'old', '--force');
    await run('agents', '--selector', 'service.name=checkout', '--token', 'fleet', '--limit', '5');

    await run('config', 'diff', 'web', `${'+/'.repeat(21)}A=`, '--against', 'a'.repeat(64));
    await run('config', 'history', 'web', '--limit', '3');

    // Assess
    expect(requests).toEqual([
      'DELETE /api/v1/tokens/old?force=true',
      'GET /api/v1/agents?selector=service.name%3Dcheckout&token=fleet&limit=5',
      `GET /api/v1/configs/web/versions/${'%2B%2F'.repeat(21)}A%3D?against=${'a'.repeat(64)}`,
      'GET /api/v1/configs/web/versions?limit=3',
    ]);
  });

  it('carries the usage of the command that was misused', async () => {
    // Act
    const error = await refusal('certificate', 'delete', 'c', '--cert', 'x.pem');

    // Assess
    expect((error as UsageError).usage).toBe(commandUsage(COMMANDS.find((c) => c.words.join(' ') === 'certificate delete')!));
    expect((error as UsageError).usage).toMatch(/^Usage: opampctl certificate delete <name> \[--force\] \[options\]/);
  });

  it('lists every command of the table in the usage text, with its options', () => {
    // Act
    const text = usageText();

    // Assess
    for (const command of COMMANDS) {
      expect(text).toContain(`\n  ${command.words.join(' ')} `);
      for (const option of Object.keys(command.options ?? {})) expect(command.synopsis).toContain(`--${option}`);
    }
    expect(text).toMatch(/\n {2}--wait <seconds> {2}how long/);
  });

  it("prints one command's usage for <command> --help, and sends nothing", async () => {
    // Act
    const lines: string[] = [];
    await main(['package', 'upload', '--help'], (line) => lines.push(line));

    // Assess
    expect(lines.join('\n')).toMatch(/^Usage: opampctl package upload <name> <version> <file> \[--signature <file\.sig>\] \[options\]/);
    expect(requests).toEqual([]);
  });

  it('exits 2 with the message and the usage on stderr for a usage error', async () => {
    // Act
    const failure = await promisify(execFile)(process.execPath, [join(root, 'bin/opampctl.mjs'), 'tokens', '--force', '--api', url], { cwd: root }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    // Assess
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/^opampctl: tokens does not take --force\n\nUsage: opampctl tokens \[options\]/);
    expect(requests).toEqual([]);
  }, 30_000);
});
