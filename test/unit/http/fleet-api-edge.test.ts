import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { MemoryRejectedKeyLog } from '../../../functions/adapters/memory/rejected-keys.js';
import { MemoryTokenStore } from '../../../functions/adapters/memory/token-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { AgentCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { AgentActions } from '../../../functions/service/agent-actions.js';
import { AgentQueries } from '../../../functions/service/agent-queries.js';
import { TokenAdmin } from '../../../functions/service/agent-tokens.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';
import { LIVENESS, T0 } from './support.js';

/** Small enough to exceed cheaply in a test, large enough for every valid body below. */
const MAX_JSON_BYTES = 2048;
/** An agent that accepts restarts and has advertised the custom capability `io.example.chat`. */
const AGENT = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';
/** An agent that takes neither restarts nor custom messages. */
const PLAIN_AGENT = '0192f9e4-8a1b-7c3d-9e4f-000000000002';
const MISSING_AGENT = '0192f9e4-8a1b-7c3d-9e4f-00000000ffff';

function record(instanceUid: string, overrides: Partial<AgentRecord>): AgentRecord {
  return {
    instanceUid,
    version: 1,
    sequenceNum: 1n,
    lastMessageDigest: 'd',
    capabilities: 1n,
    firstSeenAt: T0,
    lastSeenAt: T0,
    attributes: { 'service.name': 'checkout' },
    sections: {},
    sectionIds: {},
    expiresAt: 0,
    ...overrides,
  };
}

async function setup() {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const agents = new MemoryAgentStore();
  const restart = BigInt(AgentCapabilities.AgentCapabilities_AcceptsRestartCommand);
  await agents.put({ record: record(AGENT, { capabilities: 1n | restart, customCapabilities: ['io.example.chat'], tokenName: 'in-use' }), expectedVersion: 0 });
  await agents.put({ record: record(PLAIN_AGENT, {}), expectedVersion: 0 });
  const tokenStore = new MemoryTokenStore();
  const tokens = new TokenAdmin(tokenStore, () => T0, { agents, fleet: { current: async () => (await fleet.load()).state } });
  await tokens.create('in-use');
  await tokens.create('idle');
  const routes = fleetApiRoutes(
    {
      queries: new AgentQueries(agents, () => T0, LIVENESS),
      admin: new FleetAdmin({ objects, fleet, agents, now: () => T0, remoteConfig: POLICY, uploads: { signPut: async (key) => `http://s3.invalid/${key}` } }),
      actions: new AgentActions({ agents, now: () => T0, ttlMs: 60_000 }),
      tokens,
      rejectedKeys: new MemoryRejectedKeyLog(),
    },
    { maxJsonBytes: MAX_JSON_BYTES },
  );
  const app = createApp({ agents, routes: [routes], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
  const send = async (method: string, path: string, body?: string | Uint8Array, contentType = 'application/json') => {
    const response = await app.request(`/api/v1${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': contentType }, body } : {}),
    });
    const text = await response.text();
    return { status: response.status, allow: response.headers.get('allow'), body: text ? JSON.parse(text) : undefined };
  };
  /** Everything a refused request must leave alone: the bucket, the tokens and the agents' records. */
  const state = async () => ({
    keys: (await objects.listObjects('')).map((o) => o.key),
    tokens: (await tokenStore.list()).map((t) => t.name).sort(),
    agents: (await agents.list({ limit: 100 })).records.map((r) => ({ uid: r.instanceUid, version: r.version })),
  });
  return { send, state };
}

/** A route that takes a JSON body, with a body it accepts and a field it does not know. */
interface BodyRoute {
  resource: string;
  method: string;
  path: string;
  valid: Record<string, unknown>;
  /** The same route with a path parameter that breaks its rule, and the code that says so. */
  badPath: string;
  badCode: string;
  /** The method of the bad path, when it differs. */
  badMethod?: string;
  /** What the valid body gets: the edge lets it through to the service. */
  accepted: number;
}

const BODY_ROUTES: BodyRoute[] = [
  { resource: 'configs', method: 'PUT', path: '/configs/web', valid: { files: { 'a.yaml': { content: 'a: 1' } } }, badPath: '/configs/bad%20name', badCode: 'invalid-config-name', accepted: 202 },
  {
    resource: 'assignments',
    method: 'PUT',
    path: '/assignments/web',
    valid: { config: 'web', selector: 'service.name=checkout' },
    badPath: '/assignments/-web',
    badCode: 'invalid-assignment-name',
    accepted: 202,
  },
  {
    resource: 'packages',
    method: 'POST',
    path: '/packages/collector/1.0.0/upload',
    valid: { file: 'collector.tgz' },
    badPath: '/packages/collector/-1/upload',
    badCode: 'invalid-package-version',
    accepted: 200,
  },
  {
    resource: 'settings',
    method: 'PUT',
    path: '/settings/default',
    valid: { ownLogs: { endpoint: 'https://logs.example/v1/logs' } },
    badPath: '/settings/a%2Fb',
    badCode: 'invalid-settings-name',
    accepted: 202,
  },
  {
    resource: 'certificates',
    method: 'PUT',
    path: '/certificates/client',
    valid: { cert: 'PEM, checked by the service' },
    badPath: '/certificates/_x',
    badCode: 'invalid-certificate-name',
    accepted: 400,
  },
  { resource: 'tokens', method: 'POST', path: '/tokens', valid: { name: 'fresh' }, badPath: '/tokens/x%00y', badCode: 'invalid-token-name', badMethod: 'DELETE', accepted: 201 },
  { resource: 'restarts', method: 'POST', path: '/restarts', valid: { selector: 'service.name=checkout' }, badPath: '/agents/not-a-uid/restart', badCode: 'invalid-instance-uid', accepted: 202 },
  {
    resource: 'messages',
    method: 'POST',
    path: `/agents/${AGENT}/messages`,
    valid: { capability: 'io.example.chat', type: 'hello' },
    badPath: '/agents/0192f9e4/messages',
    badCode: 'invalid-instance-uid',
    accepted: 202,
  },
];

describe.each(BODY_ROUTES)('fleet API edge: $method $path ($resource)', (route) => {
  const refused = async (body: string | Uint8Array, contentType?: string) => {
    const { send, state } = await setup();
    const before = await state();
    const response = await send(route.method, route.path, body, contentType);
    expect(await state()).toEqual(before);
    return response;
  };

  it('refuses a body that is not JSON with 400 invalid-json, changing nothing', async () => {
    const response = await refused(`${JSON.stringify(route.valid).slice(0, -1)},`);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid-json', message: expect.stringMatching(/^request body is not valid JSON: /) });
  });

  it('refuses an unknown field with 400 naming it, changing nothing', async () => {
    const response = await refused(JSON.stringify({ ...route.valid, colour: 'blue' }));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toMatch(/^invalid-/);
    expect(response.body.error.message).toContain('colour');
  });

  it('refuses a body over the size limit with 413, changing nothing', async () => {
    const response = await refused(JSON.stringify({ ...route.valid, padding: 'x'.repeat(MAX_JSON_BYTES) }));
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload-too-large');
  });

  it('refuses a body that is not declared JSON with 415, changing nothing', async () => {
    const response = await refused(JSON.stringify(route.valid), 'text/plain');
    expect(response.status).toBe(415);
    expect(response.body.error).toEqual({ code: 'unsupported-media-type', message: 'Content-Type must be application/json' });
  });

  it('refuses bytes that are not UTF-8 with 400 invalid-utf8, changing nothing', async () => {
    const text = new TextEncoder().encode(JSON.stringify(route.valid));
    const response = await refused(new Uint8Array([...text.slice(0, 2), 0xff, ...text.slice(2)]));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid-utf8');
  });

  it(`refuses a path parameter that breaks its rule with 400 ${route.badCode}, changing nothing`, async () => {
    // Prepare
    const { send, state } = await setup();
    const before = await state();

    // Act
    const response = await send(route.badMethod ?? route.method, route.badPath, JSON.stringify(route.valid));

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(route.badCode);
    expect(response.body.error.message).toMatch(/^[a-z -]+ ".*" is not valid: /);
    expect(await state()).toEqual(before);
  });

  it(`lets the valid body through to the service (${route.accepted})`, async () => {
    const { send } = await setup();
    const response = await send(route.method, route.path, JSON.stringify(route.valid));
    // The certificate's PEM is checked by the service, once the edge has let the body through.
    expect(response.status).toBe(route.accepted);
    if (route.accepted === 400) expect(response.body.error.code).toBe('invalid-certificate');
  });
});

describe('fleet API edge: 404 for what does not exist', () => {
  it.each<[string, string, string]>([
    ['GET', '/configs/missing', 'not-found'],
    ['DELETE', '/configs/missing', 'not-found'],
    ['GET', '/assignments/missing', 'not-found'],
    ['DELETE', '/assignments/missing', 'not-found'],
    ['DELETE', '/packages/collector/9.9.9', 'not-found'],
    ['GET', '/configs/missing/rollout', 'not-found'],
    ['GET', '/packages/collector/9.9.9/rollout', 'not-found'],
    ['GET', '/settings/missing', 'not-found'],
    ['DELETE', '/settings/missing', 'not-found'],
    ['DELETE', '/certificates/missing', 'not-found'],
    ['DELETE', '/tokens/missing', 'token-not-found'],
    ['GET', '/tokens/missing/agents', 'token-not-found'],
    ['POST', `/agents/${MISSING_AGENT}/restart`, 'not-found'],
    ['GET', `/agents/${MISSING_AGENT}/messages`, 'not-found'],
    ['GET', `/agents/${MISSING_AGENT}`, 'agent-not-found'],
    ['GET', '/nothing-here', 'not-found'],
  ])('%s %s answers 404 %s', async (method, path, code) => {
    const { send } = await setup();
    const response = await send(method, path);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe(code);
  });

  it('answers 404 for a message to an agent that does not exist, changing nothing', async () => {
    const { send, state } = await setup();
    const before = await state();
    const response = await send('POST', `/agents/${MISSING_AGENT}/messages`, JSON.stringify({ capability: 'io.example.chat', type: 'x' }));
    expect(response.status).toBe(404);
    expect(await state()).toEqual(before);
  });
});

describe('fleet API edge: 409 where the resource conflicts', () => {
  it.each<[string, string, string, string | undefined, string]>([
    ['a token name that exists', 'POST', '/tokens', JSON.stringify({ name: 'idle' }), 'token-exists'],
    ['revoking a token an agent uses', 'DELETE', '/tokens/in-use', undefined, 'token-in-use'],
    ['a restart for an agent that does not accept one', 'POST', `/agents/${PLAIN_AGENT}/restart`, undefined, 'refused'],
    ['a message in a capability the agent has not advertised', 'POST', `/agents/${PLAIN_AGENT}/messages`, JSON.stringify({ capability: 'io.example.chat', type: 'x' }), 'refused'],
  ])('refuses %s with 409, changing nothing', async (_what, method, path, body, code) => {
    // Prepare
    const { send, state } = await setup();
    const before = await state();

    // Act
    const response = await send(method, path, body);

    // Assess
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe(code);
    expect(await state()).toEqual(before);
  });
});

describe('fleet API edge: 405 with the methods the routes take', () => {
  it.each<[string, string, string]>([
    ['POST', '/agents', 'GET, HEAD'],
    ['DELETE', `/agents/${AGENT}`, 'GET, HEAD'],
    ['GET', `/agents/${AGENT}/restart`, 'POST'],
    ['PUT', `/agents/${AGENT}/messages`, 'GET, HEAD, POST'],
    ['GET', '/restarts', 'POST'],
    ['POST', '/configs', 'GET, HEAD'],
    ['POST', '/configs/web', 'GET, HEAD, PUT, DELETE'],
    ['PUT', '/configs/web/rollout', 'GET, HEAD'],
    ['POST', '/assignments/web', 'GET, HEAD, PUT, DELETE'],
    ['PUT', '/packages/collector/1.0.0', 'DELETE'],
    ['GET', '/packages/collector/1.0.0/upload', 'POST'],
    ['POST', '/settings', 'GET, HEAD'],
    ['GET', '/certificates/client', 'PUT, DELETE'],
    ['PUT', '/tokens', 'GET, HEAD, POST'],
    ['GET', '/tokens/idle', 'DELETE'],
    ['POST', '/bucket/rejected', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const { send } = await setup();
    const response = await send(method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}');
    expect(response.status).toBe(405);
    expect(response.allow).toBe(allow);
    expect(response.body.error).toEqual({ code: 'method-not-allowed', message: `use ${allow} for this path` });
  });

  it('derives the Allow header of a newly mounted route from its registration', async () => {
    // Prepare: a route group nobody listed anywhere else.
    const router = new Hono();
    router.patch('/things/:id', (c) => c.body(null, 204));
    router.get('/things/:id', (c) => c.body(null, 204));
    const app = createApp({ agents: new MemoryAgentStore(), routes: [{ basePath: '/extra', router }], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });

    // Act
    const response = await app.request('/extra/things/1', { method: 'DELETE' });

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('PATCH, GET, HEAD');
  });
});

describe('fleet API edge: /agents queries and uids', () => {
  it.each<[string, string, string]>([
    ['a uid that is not a canonical UUID', '/agents/not-a-uid', 'invalid-instance-uid'],
    ['a limit out of range', '/agents?limit=0', 'invalid-request'],
    ['a liveness that does not exist', '/agents?liveness=sleepy', 'invalid-request'],
    ['a selector that does not parse', '/agents?selector=novalue', 'invalid-selector'],
  ])('refuses %s with 400 %s', async (_what, path, code) => {
    const { send } = await setup();
    const response = await send('GET', path);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
  });

  it('finds an agent by its uid in upper case', async () => {
    const { send } = await setup();
    const response = await send('GET', `/agents/${AGENT.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(response.body.instanceUid).toBe(AGENT);
  });
});
