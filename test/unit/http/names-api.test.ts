import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { MemoryRejectedKeyLog } from '../../../functions/adapters/memory/rejected-keys.js';
import { MemoryTokenStore } from '../../../functions/adapters/memory/token-store.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { TokenAdmin } from '../../../functions/service/agent-tokens.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const agents = new MemoryAgentStore();
  const tokenStore = new MemoryTokenStore();
  const signed: string[] = [];
  const uploads = {
    signPut: async (key: string) => {
      signed.push(key);
      return `http://s3.invalid/${key}`;
    },
  };
  const admin = new FleetAdmin({ objects, fleet, agents, now: () => T0, remoteConfig: POLICY, uploads });
  const rejectedKeys = new MemoryRejectedKeyLog();
  const routes = fleetApiRoutes({ admin, tokens: new TokenAdmin(tokenStore, () => T0), rejectedKeys });
  const app = createApp({ agents, routes: [routes], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const keys = async () => (await objects.listObjects('')).map((o) => o.key);
  return { objects, send, keys, signed, tokenStore, rejectedKeys };
}

const HOSTILE_FILE_NAMES: Array<[string, string, RegExp]> = [
  ['a traversal into assignments/', '../../assignments/evil.json', /".." path segment/],
  ['a traversal out of the data directory', '../../../../x', /".." path segment/],
  ['a "." segment', './a.yaml', /"\." path segment/],
  ['a leading "/"', '/a.yaml', /empty path segment/],
  ['a double "/"', 'a//b.yaml', /empty path segment/],
  ['a trailing "/"', 'dir/', /empty path segment/],
  ['a NUL', 'a\u0000.yaml', /control character \(U\+0000\)/],
  ['a DEL', 'a\u007f.yaml', /control character \(U\+007F\)/],
  ['a newline', 'a\n.yaml', /control character \(U\+000A\)/],
  ['a backslash', '..\\x.yaml', /backslash/],
  ['a lone surrogate', 'a\ud800.yaml', /not valid UTF-8/],
  ['300 characters', 'f'.repeat(300), /more than the 233 allowed per segment/],
  ['a key over 1024 bytes', `${'dd/'.repeat(350)}d`, /more than the 1024 S3 takes/],
];

describe('fleet API: names that would escape their prefix', () => {
  it.each(HOSTILE_FILE_NAMES)('PUT /configs/x with a file name with %s: 400 naming the rule, nothing written', async (_name, fileName, rule) => {
    // Prepare
    const { send, keys } = setup();

    // Act
    const response = await send('PUT', '/configs/x', { files: { 'ok.yaml': { content: 'a: 1' }, [fileName]: { content: 'evil: true' } } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid-name');
    expect(response.body.error.message).toMatch(/^file name ".*" is not allowed: /s);
    expect(response.body.error.message).toMatch(rule);
    expect(await keys()).toEqual([]);
  });

  it('leaves a configuration that exists as it was when a new upload is refused', async () => {
    // Prepare
    const { send, keys } = setup();
    await send('PUT', '/configs/x', { files: { 'a.yaml': { content: 'a: 1' } } });

    // Act
    const response = await send('PUT', '/configs/x', { files: { '../y.yaml': { content: 'evil' } } });

    // Assess
    expect(response.status).toBe(400);
    expect(await keys()).toEqual(['configs/x/a.yaml']);
  });

  it('refuses a body that is not valid UTF-8 rather than turning bytes into U+FFFD', async () => {
    // Prepare
    const { send, keys } = setup();
    const prefix = new TextEncoder().encode('{"files":{"a');
    const suffix = new TextEncoder().encode('.yaml":{"content":"x"}}}');
    const body = new Uint8Array([...prefix, 0xff, 0xfe, ...suffix]);

    // Act
    const response = await send('PUT', '/configs/x', body);

    // Assess
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'invalid-utf8' } } });
    expect(await keys()).toEqual([]);
  });

  it('accepts unicode, spaces and folders in file names', async () => {
    // Prepare
    const { send, keys } = setup();

    // Act
    const response = await send('PUT', '/configs/x', { files: { 'café/日本 語.yaml': { content: 'a: 1' }, '.hidden': { content: 'b' } } });

    // Assess
    expect(response.status).toBe(202);
    expect((await keys()).sort()).toEqual(['configs/x/.hidden', 'configs/x/café/日本 語.yaml']);
  });

  it.each<[string, string, boolean, RegExp]>([
    ['a traversal', '..', false, /".." path segment/],
    ['a NUL', 'a\u0000.tgz', false, /U\+0000/],
    ['300 characters', 'f'.repeat(300), false, /233 allowed per segment/],
    ['229 characters, whose signature would be 233 + 1', 'f'.repeat(230), true, /is not allowed: a path segment is 234 bytes/],
  ])('POST /packages/.../upload with a file name with %s: 400, nothing signed or deleted', async (_name, file, signature, rule) => {
    // Prepare
    const { send, objects, keys, signed } = setup();
    await objects.put('packages/ext/1.0.0/old.tgz', 'old');

    // Act
    const response = await send('POST', '/packages/ext/1.0.0/upload', { file, signature });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(rule);
    expect(signed).toEqual([]);
    expect(await keys()).toEqual(['packages/ext/1.0.0/old.tgz']);
  });

  it.each<[string, string]>([
    ['a leading dot', '.git'],
    ['a space', 'a%20b'],
    ['a slash', 'a%2Fb'],
    ['a NUL', 'a%00'],
    ['300 characters', 'a'.repeat(300)],
  ])('refuses a configuration name with %s (400), writing nothing', async (_name, name) => {
    // Prepare
    const { send, keys } = setup();

    // Act
    const response = await send('PUT', `/configs/${name}`, { files: { 'a.yaml': { content: 'a' } } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/names are 1-128 letters, digits/);
    expect(await keys()).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['create', 'POST', '/tokens'],
    ['revoke', 'DELETE', '/tokens/.x'],
    ['agents of', 'GET', '/tokens/a%00b/agents'],
  ])('refuses to %s a token with an invalid name (400)', async (_name, method, path) => {
    // Prepare
    const { send, tokenStore } = setup();

    // Act
    const response = await send(method, path, method === 'POST' ? { name: '../x' } : undefined);

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/token names are 1-128 letters, digits/);
    expect(await tokenStore.list()).toEqual([]);
  });
});

describe('fleet API: GET /bucket/rejected', () => {
  it('lists the rejected keys, newest first, with reason and time', async () => {
    // Prepare
    const { send, rejectedKeys } = setup();
    await rejectedKeys.record([{ key: 'configs/x/../y', reason: 'has a ".." path segment', at: T0 }]);
    await rejectedKeys.record([{ key: 'assignments/a.yaml', reason: 'assignments are assignments/<name>.json', at: T0 + 1000 }]);

    // Act
    const response = await send('GET', '/bucket/rejected');

    // Assess
    expect(response).toEqual({
      status: 200,
      body: {
        rejected: [
          { key: 'assignments/a.yaml', reason: 'assignments are assignments/<name>.json', at: '2026-01-01T00:00:01.000Z' },
          { key: 'configs/x/../y', reason: 'has a ".." path segment', at: '2026-01-01T00:00:00.000Z' },
        ],
      },
    });
  });
});
