import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { createTestCa } from '../../support/x509-fixtures.js';
import type { TestCa } from '../../support/x509-fixtures.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const agents = new MemoryAgentStore();
  const admin = new FleetAdmin({ objects, fleet, agents, now: () => T0, remoteConfig: POLICY });
  const ingest = new BucketIngest({ objects, fleet, now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20 });
  const app = createApp({ agents, routes: [fleetApiRoutes({ admin })], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
  let delivered = 0;
  const ingestAll = async () => {
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    await ingest.handleEvent(batch);
  };
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, allow: response.headers.get('allow'), body: text ? JSON.parse(text) : undefined };
  };
  return { objects, send, ingestAll };
}

describe('fleet API: /settings', () => {
  it('accepts a document with 202, and serves it once recorded', async () => {
    // Prepare
    const { send, ingestAll } = setup();

    // Act
    const put = await send('PUT', '/settings/default', { ownLogs: { endpoint: 'https://logs.example/v1/logs' } });
    await ingestAll();
    const list = await send('GET', '/settings');
    const one = await send('GET', '/settings/default');

    // Assess
    expect(put).toMatchObject({ status: 202, body: { name: 'default', status: 'accepted', settings: { ownLogs: { endpoint: 'https://logs.example/v1/logs' } } } });
    expect(list.body.settings.map((d: { name: string }) => d.name)).toEqual(['default']);
    expect(one).toMatchObject({ status: 200, body: { name: 'default', inForce: true, isDefault: true } });
  });

  it.each<[string, string, unknown, number, string]>([
    ['an invalid document', '/settings/default', { opamp: { tokn: 'x' } }, 400, 'invalid-settings'],
    ['a body that is not JSON', '/settings/default', '{', 400, 'invalid-json'],
    ['an invalid name', '/settings/bad%20name', { ownLogs: { endpoint: 'https://logs.example' } }, 400, 'invalid-settings-name'],
  ])('refuses %s and writes nothing', async (_name, path, body, status, code) => {
    // Prepare
    const { objects, send } = setup();

    // Act
    const response = await send('PUT', path, body);

    // Assess
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(objects.events).toEqual([]);
  });

  it.each<[string, string]>([
    ['GET', '/settings/absent'],
    ['DELETE', '/settings/absent'],
  ])('answers %s %s with 404', async (method, path) => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(method, path);

    // Assess
    expect(response.status).toBe(404);
  });

  it.each<[string, string, string]>([
    ['POST', '/settings', 'GET, HEAD'],
    ['POST', '/settings/default', 'GET, HEAD, PUT, DELETE'],
    ['GET', '/certificates/client', 'PUT, DELETE'],
    ['DELETE', '/certificates', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    // Prepare
    const { send } = setup();

    // Act
    const response = await send(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});

    // Assess
    expect(response.status).toBe(405);
    expect(response.allow).toBe(allow);
  });
});

describe('fleet API: /certificates', () => {
  let client: TestCa;

  beforeAll(async () => {
    client = await createTestCa({ isCa: false, subject: 'CN=client, O=Example' });
  });

  it('accepts PEM material with 202, lists it once recorded, and deletes it', async () => {
    // Prepare
    const { objects, send, ingestAll } = setup();

    // Act
    const put = await send('PUT', '/certificates/client', { cert: client.certPem, key: client.keyPem });
    await ingestAll();
    const listed = await send('GET', '/certificates');
    const deleted = await send('DELETE', '/certificates/client');
    const again = await send('DELETE', '/certificates/client');

    // Assess
    expect(put).toMatchObject({ status: 202, body: { name: 'client', subject: 'CN=client, O=Example', status: 'accepted' } });
    expect(listed.body.certificates).toEqual([expect.objectContaining({ name: 'client', fingerprint: put.body.fingerprint, files: { cert: true, key: true, ca: false } })]);
    expect(deleted.status).toBe(202);
    expect(again.status).toBe(404);
    expect(await objects.listObjects('certificates/')).toEqual([]);
  });

  it.each<[string, () => unknown, string]>([
    ['no cert', () => ({ key: client.keyPem }), 'invalid-request'],
    ['an unknown field', () => ({ cert: client.certPem, chain: client.certPem }), 'invalid-request'],
    ['a key as the certificate', () => ({ cert: client.keyPem }), 'invalid-certificate'],
  ])('refuses a body with %s with 400 and writes nothing', async (_name, body, code) => {
    // Prepare
    const { objects, send } = setup();

    // Act
    const response = await send('PUT', '/certificates/client', body());

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(objects.events).toEqual([]);
  });
});
