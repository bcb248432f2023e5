import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.js';
import { startLocalBackend } from '../../functions/local/local-backend.js';
import type { LocalBackend } from '../../functions/local/local-backend.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { bucketClient, uploadObject } from '../support/bucket.js';

/**
 * The local backend over its embedded S3, which sends no event for a
 * multi-object delete (DeleteObjects, as some sync tools and SDK batch
 * deletes use): the backend re-reads the bucket now and then, so such a
 * removal still reaches the fleet without a restart.
 */

const config = loadConfig({});
const scratch = mkdtempSync(join(tmpdir(), 'opamp-reconcile-'));
let backend: LocalBackend;

beforeAll(async () => {
  backend = await startLocalBackend({
    config,
    host: '127.0.0.1',
    port: 0,
    dataDir: scratch,
    ephemeral: true,
    telemetry: NO_TELEMETRY,
    reconcileIntervalMs: 200,
  });
});

afterAll(async () => {
  await backend?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function packages(): Promise<string[]> {
  const response = await fetch(`${backend.url}/api/v1/packages`);
  return ((await response.json()) as { packages: { name: string; version: string }[] }).packages.map((p) => `${p.name} ${p.version}`);
}

describe('local backend over the embedded S3', () => {
  it('drops a package version removed by a multi-object delete, which the embedded S3 sends no event for', async () => {
    // Prepare
    const s3 = bucketClient(backend.s3Endpoint);
    await uploadObject(s3, config.bucketName, 'packages/ext/1.0.0/ext.tar.gz', 'package');
    await uploadObject(s3, config.bucketName, 'packages/ext/1.0.0/ext.tar.gz.sig', 'signature');
    await backend.ingested();
    const before = await packages();

    // Act
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: config.bucketName,
        Delete: { Objects: [{ Key: 'packages/ext/1.0.0/ext.tar.gz' }, { Key: 'packages/ext/1.0.0/ext.tar.gz.sig' }] },
      }),
    );
    let after = await packages();
    for (let i = 0; i < 50 && after.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await packages();
    }

    // Assess
    expect(before).toEqual(['ext 1.0.0']);
    expect(after).toEqual([]);
  });
});
