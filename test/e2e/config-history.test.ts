import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { runOpampctl } from '../support/opampctl.js';

describe('configuration history with opampctl, against the local backend', () => {
  let backend: TestBackend;
  const scratch = mkdtempSync(join(tmpdir(), 'opampctl-history-'));

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }
  async function upload(name: string, files: Record<string, string>): Promise<void> {
    const paths = Object.entries(files).map(([file, content]) => {
      writeFileSync(join(scratch, file), content);
      return join(scratch, file);
    });
    await ctl('config', 'upload', name, ...paths);
    await backend.ingested();
    backend.clock.advance(60_000);
  }

  it('lists versions, diffs them, and restores an earlier one, which becomes the newest version', async () => {
    // Prepare
    // One file each: every object written is one change the ingest records (see docs/guides/history.md).
    await upload('web', { 'collector.yaml': 'exporters:\n  debug: {}\n' });
    await upload('web', { 'collector.yaml': 'exporters:\n  otlp: {}\n' });

    // Act
    const history = JSON.parse(await ctl('config', 'history', 'web', '--json'));
    const [newest, first] = history.versions;
    const listed = await ctl('config', 'history', 'web');
    const diff = await ctl('config', 'diff', 'web', newest.hashUrl);
    const against = JSON.parse(await ctl('config', 'diff', 'web', first.hashUrl, '--against', newest.hashUrl, '--json'));
    const restored = JSON.parse(await ctl('config', 'restore', 'web', first.hashUrl, '--json'));
    await backend.ingested();
    const after = JSON.parse(await ctl('config', 'history', 'web', '--json'));
    const shown = JSON.parse(await ctl('config', 'show', 'web', '--json'));

    // Assess
    expect(history.versions).toHaveLength(2);
    expect(newest).toMatchObject({ principal: 'local', changes: { added: [], removed: [], changed: ['collector.yaml'] } });
    expect(first.changes).toEqual({ added: ['collector.yaml'], removed: [], changed: [] });
    expect(listed.split('\n')[0]).toMatch(/^HASH\s+RECORDED\s+BY\s+FILES\s+CHANGES/);
    expect(listed).toContain(`${newest.hashUrl}`);
    expect(listed).toContain('~collector.yaml');
    expect(diff).toContain('--- a/collector.yaml\n+++ b/collector.yaml\n@@ -1,2 +1,2 @@\n exporters:\n-  debug: {}\n+  otlp: {}');
    expect(against.changes).toEqual({ added: [], removed: [], changed: ['collector.yaml'] });
    expect(against.diff).toContain('-  otlp: {}\n+  debug: {}\n');
    expect(restored).toEqual({ name: 'web', hash: first.hashHex, status: 'recorded' });
    expect(after.versions.map((v: { hash: string }) => v.hash)).toEqual([first.hash, newest.hash, first.hash]);
    expect(shown.hash).toBe(first.hashHex);
    expect(shown.files.map((f: { name: string }) => f.name)).toEqual(['collector.yaml']);
  });

  it('answers an unknown version with a clear error', async () => {
    // Act
    const error = await ctl('config', 'diff', 'web', Buffer.alloc(32, 1).toString('base64url')).catch((e: Error) => e);
    const badHash = await ctl('config', 'restore', 'web', 'nope').catch((e: Error) => e);

    // Assess
    expect((error as Error).message).toMatch(/no recorded version/);
    expect((badHash as Error).message).toMatch(/is not a config hash/);
  });
});
