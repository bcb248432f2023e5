import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryConfigHistoryStore } from '../../../functions/adapters/memory/config-history-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const objects = new MemoryObjectStore();
  const state = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const history = new MemoryConfigHistoryStore();
  const clock = { now: T0 };
  const admin = new FleetAdmin({ objects, fleet, agents: new MemoryAgentStore(), now: () => clock.now, remoteConfig: POLICY, history: { store: history, state } });
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20, history: { store: history, state, principal: 'bucket' } });
  const app = createApp({ agents: new MemoryAgentStore(), routes: [fleetApiRoutes({ admin })], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
  let delivered = 0;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // Each change reaches the ingest as the bucket's events would, a minute apart.
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    clock.now += 60_000;
    await ingest.handleEvent(batch);
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const upload = (name: string, files: Record<string, string>) => send('PUT', `/configs/${name}`, { files: Object.fromEntries(Object.entries(files).map(([file, content]) => [file, { content }])) });
  return { objects, state, send, upload };
}

describe('fleet API: /configs/{name}/versions', () => {
  it('lists versions newest first, with time, principal, files and what changed', async () => {
    // Prepare
    const { send, upload } = setup();
    await upload('web', { 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    await upload('web', { 'a.yaml': 'a: 2\n', 'c.yaml': 'c: 1\n' });

    // Act
    const list = await send('GET', '/configs/web/versions');

    // Assess
    expect(list.status).toBe(200);
    const [newest, first] = list.body.versions;
    expect(list.body.versions).toHaveLength(2);
    expect(newest).toMatchObject({ principal: 'bucket', changes: { added: ['c.yaml'], removed: ['b.yaml'], changed: ['a.yaml'] } });
    expect(newest.files.map((f: { name: string }) => f.name)).toEqual(['a.yaml', 'c.yaml']);
    expect(first.changes).toEqual({ added: ['a.yaml', 'b.yaml'], removed: [], changed: [] });
    expect(Date.parse(newest.recordedAt)).toBeGreaterThan(Date.parse(first.recordedAt));
    expect(newest.hashUrl).toBe(Buffer.from(newest.hash, 'base64').toString('base64url'));
    expect((await send('GET', '/configs/web')).body.hash).toBe(newest.hashHex);
  });

  it('pages with limit and cursor, each page knowing the change from the version before it', async () => {
    // Prepare
    const { send, upload } = setup();
    for (let i = 1; i <= 5; i++) await upload('web', { 'a.yaml': `a: ${i}\n` });

    // Act
    const first = await send('GET', '/configs/web/versions?limit=2');
    const second = await send('GET', `/configs/web/versions?limit=2&cursor=${first.body.nextCursor}`);
    const third = await send('GET', `/configs/web/versions?limit=2&cursor=${second.body.nextCursor}`);

    // Assess
    const hashes = [...first.body.versions, ...second.body.versions, ...third.body.versions].map((v: { hash: string }) => v.hash);
    expect(new Set(hashes).size).toBe(5);
    expect(first.body.versions[1].changes.changed).toEqual(['a.yaml']);
    expect(second.body.versions[1].changes.changed).toEqual(['a.yaml']);
    expect(third.body.versions).toHaveLength(1);
    expect(third.body.versions[0].changes.added).toEqual(['a.yaml']);
    expect(third.body.nextCursor).toBeUndefined();
  });

  it('shows a version with its files and a unified diff against the previous one, or any other', async () => {
    // Prepare
    const { send, upload } = setup();
    await upload('web', { 'a.yaml': 'x: 1\ny: 1\n', 'gone.yaml': 'g\n' });
    await upload('web', { 'a.yaml': 'x: 1\ny: 2\n' });
    await upload('web', { 'a.yaml': 'x: 3\ny: 2\n' });
    const [newest, middle, oldest] = (await send('GET', '/configs/web/versions')).body.versions;

    // Act
    const shown = await send('GET', `/configs/web/versions/${middle.hashUrl}`);
    const against = await send('GET', `/configs/web/versions/${newest.hashUrl}?against=${oldest.hashUrl}`);

    // Assess
    expect(shown.status).toBe(200);
    expect(shown.body.files).toEqual([expect.objectContaining({ name: 'a.yaml', content: 'x: 1\ny: 2\n' })]);
    expect(shown.body.against.hash).toBe(oldest.hash);
    expect(shown.body.diff).toBe(['--- a/a.yaml', '+++ b/a.yaml', '@@ -1,2 +1,2 @@', ' x: 1', '-y: 1', '+y: 2', '--- a/gone.yaml', '+++ /dev/null', '@@ -1 +0,0 @@', '-g', ''].join('\n'));
    expect(against.body.diff).toContain('-x: 1\n-y: 1\n+x: 3\n+y: 2\n');
    expect(against.body.changes).toEqual({ added: [], removed: ['gone.yaml'], changed: ['a.yaml'] });
  });

  it('says a binary file differs and carries no content for it', async () => {
    // Prepare
    const { send } = setup();
    await send('PUT', '/configs/bin', { files: { 'blob.bin': { contentBase64: Buffer.from([0, 1, 2, 255]).toString('base64') } } });
    const [version] = (await send('GET', '/configs/bin/versions')).body.versions;

    // Act
    const shown = await send('GET', `/configs/bin/versions/${version.hashUrl}`);

    // Assess
    expect(shown.body.files).toEqual([{ name: 'blob.bin', size: 4, contentType: 'application/octet-stream', sha256: expect.any(String), binary: true }]);
    expect(shown.body.diff).toBe('Binary files /dev/null and b/blob.bin differ\n');
    expect(shown.body.against).toBeNull();
  });

  it('notes a changed content type on a line of its own, and a changed binary file as differing', async () => {
    // Prepare
    const { send } = setup();
    const binary = (bytes: number[]) => Buffer.from(bytes).toString('base64');
    await send('PUT', '/configs/mixed', { files: { 'a.conf': { content: 'same\n', contentType: 'text/plain' }, 'b.bin': { contentBase64: binary([0, 1]) } } });
    await send('PUT', '/configs/mixed', { files: { 'a.conf': { content: 'same\n', contentType: 'text/x-custom' }, 'b.bin': { contentBase64: binary([0, 2]) } } });
    const [newest] = (await send('GET', '/configs/mixed/versions')).body.versions;

    // Act
    const shown = await send('GET', `/configs/mixed/versions/${newest.hashUrl}`);

    // Assess
    expect(shown.body.changes.changed).toEqual(['a.conf', 'b.bin']);
    expect(shown.body.diff).toBe('Content type of a.conf: text/plain -> text/x-custom\nBinary files a/b.bin and b/b.bin differ\n');
  });

  it('accepts the hash as base64url, URL-encoded standard base64 or hex', async () => {
    // Prepare
    const { send, upload } = setup();
    await upload('web', { 'a.yaml': 'a: 1\n' });
    const [version] = (await send('GET', '/configs/web/versions')).body.versions;

    // Act
    const forms = [version.hashUrl, encodeURIComponent(version.hash), version.hashHex];
    const answers = await Promise.all(forms.map((form) => send('GET', `/configs/web/versions/${form}`)));

    // Assess
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { hash: version.hash } });
  });

  it('restores an earlier version: its files back in the bucket, others removed, recorded as the newest version', async () => {
    // Prepare
    const { objects, send, upload } = setup();
    await upload('web', { 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    await upload('web', { 'a.yaml': 'a: 2\n', 'c.yaml': 'c: 1\n' });
    const [, first] = (await send('GET', '/configs/web/versions')).body.versions;

    // Act
    const restored = await send('POST', `/configs/web/versions/${first.hashUrl}/restore`);

    // Assess
    expect(restored).toEqual({ status: 202, body: { name: 'web', hash: first.hashHex, status: 'accepted' } });
    expect((await objects.listObjects('configs/web/')).map((o) => o.key)).toEqual(['configs/web/a.yaml', 'configs/web/b.yaml']);
    expect(new TextDecoder().decode((await objects.getObject('configs/web/a.yaml'))!.bytes)).toBe('a: 1\n');
    const versions = (await send('GET', '/configs/web/versions')).body.versions;
    expect(versions.map((v: { hash: string }) => v.hash)).toEqual([first.hash, versions[1].hash, first.hash]);
    expect(versions[0].changes).toEqual({ added: ['b.yaml'], removed: ['c.yaml'], changed: ['a.yaml'] });
    expect((await send('GET', '/configs/web')).body.hash).toBe(first.hashHex);
  });

  it.each<[string, string, string, number, string]>([
    ['an unknown configuration', 'GET', '/configs/absent/versions', 404, 'config-version-not-found'],
    ['an unknown hash', 'GET', `/configs/web/versions/${Buffer.alloc(32, 7).toString('base64url')}`, 404, 'config-version-not-found'],
    ['an unknown against', 'GET', `KNOWN?against=${Buffer.alloc(32, 7).toString('base64url')}`, 404, 'config-version-not-found'],
    ['an unknown hash in URL-encoded base64 with "+" and "/"', 'GET', `/configs/web/versions/${encodeURIComponent(Buffer.alloc(32, 0xfb).toString('base64'))}`, 404, 'config-version-not-found'],
    ['a restore of an unknown hash', 'POST', `/configs/web/versions/${Buffer.alloc(32, 7).toString('base64url')}/restore`, 404, 'config-version-not-found'],
    ['a hash of the wrong length', 'GET', '/configs/web/versions/abc', 400, 'invalid-config-hash'],
    ['a bad against', 'GET', 'KNOWN?against=abc', 400, 'invalid-config-hash'],
    ['a bad cursor', 'GET', '/configs/web/versions?cursor=x', 400, 'invalid-request'],
    ['a limit out of range', 'GET', '/configs/web/versions?limit=0', 400, 'invalid-request'],
    ['an invalid name', 'POST', `/configs/bad%20name/versions/${Buffer.alloc(32).toString('base64url')}/restore`, 400, 'invalid-config-name'],
  ])('answers %s with %s and a clear message, changing nothing', async (_what, method, path, status, code) => {
    // Prepare
    const { objects, state, send, upload } = setup();
    await upload('web', { 'a.yaml': 'a: 1\n' });
    const [version] = (await send('GET', '/configs/web/versions')).body.versions;
    const events = objects.events.length;
    const copies = (await state.listObjects('')).length;

    // Act
    const answer = await send(method, path.replace('KNOWN', `/configs/web/versions/${version.hashUrl}`));

    // Assess
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toMatch(/web|absent|hash|cursor|limit|name|Too small/i);
    expect(objects.events.length).toBe(events);
    expect((await state.listObjects('')).length).toBe(copies);
  });
});
