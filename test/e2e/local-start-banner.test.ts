import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/opampctl.js';
import { isRunning, launchBackend } from '../support/local-backend.js';
import type { BackendProcess } from '../support/local-backend.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The `aws` command line `npm start` printed, split into its environment and its endpoint and bucket. */
function printedAwsCommand(stdout: string): { env: Record<string, string>; endpoint: string; bucket: string } {
  const line = stdout.split('\n').find((l) => l.includes(' aws --endpoint-url '));
  if (!line) throw new Error(`no aws command in:\n${stdout}`);
  const match = /^\s*((?:[A-Z_]+=\S+ )+)aws --endpoint-url (\S+) s3 ls s3:\/\/([^/\s]+)\/$/.exec(line);
  if (!match) throw new Error(`unexpected aws command: ${line}`);
  const env = Object.fromEntries(
    match[1]!
      .trim()
      .split(' ')
      .map((pair) => pair.split('=') as [string, string]),
  );
  return { env, endpoint: match[2]!, bucket: match[3]! };
}

describe('npm start tells where everything is', () => {
  const dirs: string[] = [];
  const running: BackendProcess[] = [];
  afterAll(async () => {
    for (const backend of running) await backend.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the console, the API base that opampctl takes as printed, and a working command for the bucket on a fixed port', async () => {
    const s3Port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'opamp-banner-'));
    dirs.push(dir);
    const started = await launchBackend({ OPAMP_DATA_DIR: dir, OPAMP_PORT: '0', OPAMP_S3_PORT: String(s3Port) });
    if (!isRunning(started)) throw new Error(`did not start: ${started.stderr}`);
    running.push(started);
    const { stdout } = await started.stop('SIGTERM');
    running.pop();
    expect(stdout).toContain(`console:                  ${started.url}/`);

    // Started again on the same data and S3 port: the printed command still works.
    const again = await launchBackend({ OPAMP_DATA_DIR: dir, OPAMP_PORT: '0', OPAMP_S3_PORT: String(s3Port) });
    if (!isRunning(again)) throw new Error(`did not start again: ${again.stderr}`);
    running.push(again);
    const { env, endpoint, bucket } = printedAwsCommand(stdout);
    expect(endpoint).toBe(`http://127.0.0.1:${s3Port}`);
    expect(bucket).toBe('opamp-local');
    const s3 = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: env.AWS_REGION!,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      requestChecksumCalculation: env.AWS_REQUEST_CHECKSUM_CALCULATION === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'configs/printed/collector.yaml', Body: 'receivers: {}\n' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'configs/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('configs/printed/collector.yaml');

    const apiBase = /fleet API: +(\S+) /.exec(stdout)?.[1];
    expect(apiBase).toBe(`${started.url}/api/v1`);
    await expect
      .poll(
        async () => {
          const out: string[] = [];
          await main(['configs', '--api', `${again.url}/api/v1`, '--json'], (line) => out.push(line));
          return out.join('\n');
        },
        { timeout: 15_000 },
      )
      .toContain('"printed"');
  });

  it('refuses an S3 port in use with one line naming OPAMP_S3_PORT', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dir = mkdtempSync(join(tmpdir(), 'opamp-banner-'));
      dirs.push(dir);
      const result = await launchBackend({ OPAMP_DATA_DIR: dir, OPAMP_PORT: '0', OPAMP_S3_PORT: String(port) });
      expect(isRunning(result)).toBe(false);
      if (isRunning(result)) return;
      expect(result.stderr.trim()).toBe(`could not start: port ${port} on 127.0.0.1 for the embedded S3 is already in use: choose another with OPAMP_S3_PORT`);
    } finally {
      blocker.close();
    }
  });
});
