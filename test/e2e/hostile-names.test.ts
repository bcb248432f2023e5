import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/opampctl.js';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { loadConfig } from '../../functions/config.js';
import { startLocalBackend } from '../../functions/local/local-backend.js';
import type { LocalBackend } from '../../functions/local/local-backend.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';

/** Every file under `root`, relative to it. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** A raw request to the embedded S3, the path sent exactly as given (no URL normalization). */
function rawS3(endpoint: string, method: string, path: string, body = 'x'): Promise<{ status: number; text: string }> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hostile names against the local backend', () => {
  // The data directory sits deep inside a sandbox: whatever a traversal writes lands in the sandbox, where the test sees it.
  const sandbox = mkdtempSync(join(tmpdir(), 'opamp-names-'));
  const dataDir = join(sandbox, 'a', 'b', 'c', 'd', 'data');
  const bucket = 'opamp-local';
  let backend: LocalBackend;

  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(sandbox, 'marker'), 'the only file outside the data directory');
    backend = await startLocalBackend({ config: loadConfig({}), host: '127.0.0.1', port: 0, dataDir, ephemeral: true, telemetry: NO_TELEMETRY });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(sandbox, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${backend.url}/api/v1${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as { error?: { message: string } } | undefined };
  };
  const outsideDataDir = () => filesUnder(sandbox).filter((f) => !f.startsWith(`a${'/'}b/c/d/data/`));
  const stillUp = async () => (await fetch(`${backend.url}/healthz`)).status;

  it.each<[string, string, RegExp]>([
    ['a traversal into assignments/', '../../assignments/evil.json', /".." path segment/],
    ['a traversal out of the data directory', '../../../../../../../../x', /".." path segment/],
    ['300 characters', 'f'.repeat(300), /233 allowed per segment/],
    ['a NUL', 'a\u0000b.yaml', /U\+0000/],
    ['control characters', 'a\u0001\u001b\u007f.yaml', /control character/],
    ['a backslash traversal', '..\\..\\x.yaml', /backslash/],
  ])('the fleet API refuses a file name with %s: 400, nothing written, the backend stays up', async (_name, fileName, rule) => {
    // Act
    const response = await api('PUT', '/configs/x', { files: { [fileName]: { content: 'evil: true' } } });
    await backend.ingested();

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.message).toMatch(rule);
    expect(await stillUp()).toBe(200);
    expect(outsideDataDir()).toEqual(['marker']);
    expect(filesUnder(join(dataDir, 's3')).filter((f) => f.includes('evil') || f.includes('assignments'))).toEqual([]);
    expect((await api('GET', '/assignments')).body).toEqual({ assignments: [] });
  });

  it('the fleet API takes unicode file names', async () => {
    // Act
    const response = await api('PUT', '/configs/uni', { files: { 'café/日本語 😀.yaml': { content: 'a: 1' } } });
    await backend.ingested();

    // Assess
    expect(response.status).toBe(202);
    expect((await api('GET', '/configs/uni')).body).toMatchObject({ files: [{ name: 'café/日本語 😀.yaml' }] });
  });

  it.each<[string, string, string]>([
    ['a raw traversal out of the data directory', `/${bucket}/configs/x/../../../../../../../../../escaped`, 'InvalidArgument'],
    ['an encoded traversal', `/${bucket}/configs%2Fx%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fescaped`, 'InvalidArgument'],
    ['a traversal into assignments/', `/${bucket}/configs/x/../../assignments/evil.json`, 'InvalidArgument'],
    ['a 300-character segment', `/${bucket}/configs/x/${'f'.repeat(300)}`, 'KeyTooLongError'],
    ['a NUL', `/${bucket}/configs/x/a%00b`, 'InvalidArgument'],
    ['a control character', `/${bucket}/configs/x/a%1Bb`, 'InvalidArgument'],
    ['a backslash', `/${bucket}/configs/x/..%5C..%5Cx`, 'InvalidArgument'],
    ['bytes that are not UTF-8', `/${bucket}/configs/x/%FF%FE`, 'InvalidURI'],
    ['a copy from outside the data directory', `/${bucket}/configs/x/copy`, 'InvalidArgument'],
  ])('the embedded S3 answers %s with an S3-style 400, writes nothing and stays up', async (name, path, code) => {
    // Act
    const response = name.startsWith('a copy')
      ? await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const url = new URL(backend.s3Endpoint);
          const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers: { 'x-amz-copy-source': `/${bucket}/../../../../../../marker`, 'content-length': 0 } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          req.end();
        })
      : await rawS3(backend.s3Endpoint, 'PUT', path);
    await backend.ingested();

    // Assess
    expect(response.status).toBe(400);
    expect(response.text).toContain(`<Code>${code}</Code>`);
    expect(await stillUp()).toBe(200);
    expect(outsideDataDir()).toEqual(['marker']);
    expect((await rawS3(backend.s3Endpoint, 'PUT', `/${bucket}/notes/fine.txt`)).status).toBe(200);
  });

  it('the embedded S3 refuses a multi-object delete naming a key outside the data directory', async () => {
    // Prepare
    const { s3 } = createAwsClients({ dynamodbEndpoint: backend.dynamodbEndpoint, s3Endpoint: backend.s3Endpoint, emulated: true });

    // Act
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: '../../../../../../marker' }] } })).then(
      () => 'deleted',
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
    );

    // Assess
    expect(result).toBe(400);
    expect(outsideDataDir()).toEqual(['marker']);
    expect(await stillUp()).toBe(200);
  });

  it('reports keys under a managed prefix that the ingest rejects, through the API and opampctl', async () => {
    // Prepare
    const { s3 } = createAwsClients({ dynamodbEndpoint: backend.dynamodbEndpoint, s3Endpoint: backend.s3Endpoint, emulated: true });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'assignments/route.yaml', Body: 'config: x' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'configs/bad name/a.yaml', Body: 'a: 1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/whatever.txt', Body: 'not the fleet' }));
    await backend.ingested();
    const lines: string[] = [];

    // Act
    const listed = await api('GET', '/bucket/rejected');
    await main(['bucket', 'rejected', '--api', backend.url], (line) => lines.push(line));

    // Assess
    const keys = (listed.body as { rejected: Array<{ key: string; reason: string }> }).rejected.map((r) => r.key);
    expect(keys).toEqual(['configs/bad name/a.yaml', 'assignments/route.yaml']);
    expect(lines.join('\n')).toMatch(/"assignments\/route.yaml" +assignments are assignments\/<name>.json/);
    expect(lines.join('\n')).toContain('is not a valid configuration name');
    expect(lines.join('\n')).not.toContain('elsewhere');
  });
});
