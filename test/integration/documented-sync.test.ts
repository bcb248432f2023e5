import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.js';
import { classifyObjectKey } from '../../functions/core/bucket-layout.js';
import { bucketClient } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { description, effectiveConfig, fullReport, health } from '../support/messages.js';
import { parseSyncCommand, runSync, syncCommandsIn } from '../support/s3-sync.js';
import type { SyncCommand } from '../support/s3-sync.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { createTestCa } from '../support/x509-fixtures.js';
import { runOpampctl } from '../support/opampctl.js';

/**
 * The GitOps workflow exactly as docs/guides/configuration.md documents it, against the local
 * backend (dynalite and s3rver): every `aws s3 sync` command of "Managing
 * configuration" is run with the AWS CLI's semantics, --delete included.
 * What the operator synced changes; the agents' stored state and what
 * opampctl uploaded do not.
 */

const GUIDE = `\n${readFileSync(join(import.meta.dirname, '../../docs/guides/configuration.md'), 'utf8')}`;
const documented = syncCommandsIn(GUIDE, '# Managing configuration');
/** A status section larger than a table item takes: it is kept as an object. */
const LARGE_CONFIG = `receivers:\n${'  # padding to make the effective configuration large\n'.repeat(8_000)}`;

/** The buckets the test backend uses (it reads its settings as loadConfig gives them). */
const { bucketName: bucket, stateBucketName } = loadConfig({});
let backend: TestBackend;
let s3: S3Client;
const scratch = mkdtempSync(join(tmpdir(), 'opamp-sync-'));

beforeAll(async () => {
  backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
  s3 = bucketClient(backend.s3Endpoint);
});

afterAll(async () => {
  await backend?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function writeFleetFile(path: string, body: string): void {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
}

async function ctl(...args: string[]): Promise<string> {
  return runOpampctl(backend.url, args);
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${backend.url}/api/v1/${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function sync(commands: readonly SyncCommand[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const command of commands) deleted.push(...(await runSync(s3, bucket, scratch, command)));
  await backend.ingested();
  return deleted;
}

async function bucketKeys(name: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: name }))).Contents ?? []).map((o) => o.Key!);
}

/** An agent's stored state, as the fleet API shows it. */
async function storedState(uid: string) {
  const view = await api<Record<string, unknown>>(`agents/${uid}`);
  return { description: view.description, health: view.health, effectiveConfig: view.effectiveConfig, availableComponents: view.availableComponents };
}

describe('the documented GitOps sync, with --delete', () => {
  it('is documented as commands this test can run, each with --delete', () => {
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.every((c) => c.delete)).toBe(true);
  });

  it('changes what the operator synced, and leaves agent state, packages and certificates alone', async () => {
    // Prepare: the operator's folder, synced once.
    writeFleetFile('fleet/configs/default/collector.yaml', 'receivers: {otlp: {}}\n');
    writeFleetFile('fleet/configs/checkout/old.yaml', 'exporters: {debug: {}}\n');
    writeFleetFile('fleet/assignments/checkout.json', '{"config": "checkout", "selector": "service.name=checkout"}');
    writeFleetFile('fleet/settings/steady.json', '{"opamp": {"heartbeat": {"idleSeconds": 120, "pendingSeconds": 10}}}');
    await sync(documented);
    // Packages and certificates uploaded with opampctl, as the docs show.
    writeFleetFile('upload/ext.tar.gz', 'package bytes');
    writeFleetFile('upload/ext.tar.gz.sig', 'signature bytes');
    const material = await createTestCa({ isCa: false, subject: 'CN=shipper, O=Example' });
    writeFleetFile('upload/cert.pem', material.certPem);
    writeFleetFile('upload/key.pem', material.keyPem);
    await ctl('package', 'upload', 'ext', '1.0.0', join(scratch, 'upload/ext.tar.gz'), '--signature', join(scratch, 'upload/ext.tar.gz.sig'));
    await ctl('certificate', 'upload', 'shipper', '--cert', join(scratch, 'upload/cert.pem'), '--key', join(scratch, 'upload/key.pem'));
    // An agent whose effective configuration is too large for a table item.
    const agent = new ScriptedAgent(backend.opampUrl, {
      report: (uid, seq) =>
        fullReport(uid, seq, {
          agentDescription: description({ 'service.name': 'checkout' }),
          health: health(true, { 'pipeline:traces': true }),
          effectiveConfig: effectiveConfig({ 'collector.yaml': LARGE_CONFIG }),
        }),
    });
    await agent.sendFullReport();
    const before = await storedState(agent.uidText);
    const packagesBefore = await ctl('packages', '--json');
    const certificatesBefore = JSON.parse(await ctl('certificates', '--json')).certificates;

    // Act: the operator edits the folder and runs the documented sync again.
    rmSync(join(scratch, 'fleet/configs/checkout/old.yaml'));
    writeFleetFile('fleet/configs/checkout/new.yaml', 'exporters: {otlp: {}}\n');
    const deleted = await sync(documented);

    // Assess: the sync did its work...
    expect(deleted).toEqual(['configs/checkout/old.yaml']);
    const configs = await api<{ configs: { name: string; files: { name: string }[] }[] }>('configs');
    expect(configs.configs.find((c) => c.name === 'checkout')?.files.map((f) => f.name)).toEqual(['new.yaml']);
    // ...and touched nothing else.
    expect((before.effectiveConfig as { files: Record<string, unknown> }).files['collector.yaml']).toBeDefined();
    expect(await storedState(agent.uidText)).toEqual(before);
    expect(await ctl('packages', '--json')).toEqual(packagesBefore);
    expect(JSON.parse(await ctl('certificates', '--json')).certificates).toEqual(certificatesBefore);
    expect(certificatesBefore).toEqual([expect.objectContaining({ name: 'shipper', error: null })]);
    expect(await bucketKeys(bucket)).toEqual(
      expect.arrayContaining(['packages/ext/1.0.0/ext.tar.gz', 'packages/ext/1.0.0/ext.tar.gz.sig', 'certificates/shipper/cert.pem', 'certificates/shipper/key.pem']),
    );
  });

  it("keeps every object the server writes out of the operator's bucket, so that even a sync of its root with --delete cannot reach agent state or configuration history", async () => {
    // Prepare
    const agent = new ScriptedAgent(backend.opampUrl, {
      report: (uid, seq) => fullReport(uid, seq, { effectiveConfig: effectiveConfig({ 'collector.yaml': LARGE_CONFIG }) }),
    });
    await agent.sendFullReport();
    const before = await storedState(agent.uidText);
    const unknownToTheLayout = (await bucketKeys(bucket)).filter((key) => classifyObjectKey(key).kind === 'ignored');
    const historyCopies = (await bucketKeys(stateBucketName)).filter((key) => key.startsWith('config-history/'));

    // Act: the broadest thing an operator could run against their bucket.
    await sync([parseSyncCommand('aws s3 sync ./fleet s3://<bucket>/ --delete')]);

    // Assess
    expect(unknownToTheLayout).toEqual([]);
    const state = await bucketKeys(stateBucketName);
    expect(state.length).toBeGreaterThan(0);
    expect(state.every((key) => key.startsWith('agent-state/') || key.startsWith('config-history/'))).toBe(true);
    // Earlier configuration versions stay servable whatever the sync removed.
    expect(historyCopies.length).toBeGreaterThan(0);
    expect(state).toEqual(expect.arrayContaining(historyCopies));
    expect(await storedState(agent.uidText)).toEqual(before);
    expect(before.effectiveConfig).not.toBeNull();
  });
});
