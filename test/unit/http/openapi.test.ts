import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryAuditLog } from '../../../functions/adapters/memory/audit-log.js';
import { isAuditAction } from '../../../functions/core/audit.js';
import { MemoryConfigHistoryStore } from '../../../functions/adapters/memory/config-history-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { MemoryRejectedKeyLog } from '../../../functions/adapters/memory/rejected-keys.js';
import { MemoryTokenStore } from '../../../functions/adapters/memory/token-store.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { FLEET_API_ROUTES, openApiDocument } from '../../../functions/http/openapi.js';
import type { RouteDoc } from '../../../functions/http/openapi.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { AgentActions } from '../../../functions/service/agent-actions.js';
import { AgentQueries } from '../../../functions/service/agent-queries.js';
import { TokenAdmin } from '../../../functions/service/agent-tokens.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { RolloutEngine } from '../../../functions/service/rollouts/rollout-engine.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';
import { LIVENESS, T0 } from './support.js';

function services() {
  const agents = new MemoryAgentStore();
  const fleet = new MemoryFleetStore();
  return fleetApiRoutes({
    queries: new AgentQueries(agents, () => T0, LIVENESS),
    admin: new FleetAdmin({
      objects: new MemoryObjectStore(),
      fleet,
      agents,
      now: () => T0,
      remoteConfig: POLICY,
      uploads: { signPut: async (key) => `http://s3.invalid/${key}` },
      history: { store: new MemoryConfigHistoryStore(), state: new MemoryObjectStore() },
    }),
    actions: new AgentActions({ agents, now: () => T0, ttlMs: 60_000 }),
    tokens: new TokenAdmin(new MemoryTokenStore(), () => T0, { agents, fleet: { current: async () => (await fleet.load()).state } }),
    rejectedKeys: new MemoryRejectedKeyLog(),
    certificateHolders: { agents, now: () => T0, warningMs: 0, liveness: LIVENESS },
    rollouts: { engine: new RolloutEngine({ fleet, agents, liveness: LIVENESS, remoteConfig: POLICY, now: () => T0 }), principal: () => 'test' },
    audit: { log: new MemoryAuditLog(() => T0), now: () => T0, principal: () => 'local' },
  });
}

/** `METHOD /path/{param}` for every route a router holds, as the description spells them. */
function registered(routes: ReadonlyArray<{ method: string; path: string }>): string[] {
  const keys = routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(keys)].sort();
}

function documented(doc: ReturnType<typeof openApiDocument>): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`))
    .sort();
}

function route(method: string, path: string): RouteDoc {
  const found = FLEET_API_ROUTES.find((r) => r.method === method && r.path === path);
  if (!found) throw new Error(`${method} ${path} is not described`);
  return found;
}

/** The operation as the served document has it. */
function operationOf(method: string, path: string): { responses: Record<string, unknown> } {
  const methods = openApiDocument().paths[path] as Record<string, { responses: Record<string, unknown> }> | undefined;
  const found = methods?.[method];
  if (!found) throw new Error(`${method} ${path} is not in the document`);
  return found;
}

describe('OpenAPI description of the fleet API', () => {
  it('describes every registered route with its methods, and no route that is not registered', () => {
    const { router } = services();
    expect(documented(openApiDocument())).toEqual(registered(router.routes));
  });

  it.each(FLEET_API_ROUTES.map((r) => [r.method, r.path, r] as const))('%s %s documents exactly the parameters of its path', (_m, path, described) => {
    const segments = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(described.params ?? {}).sort()).toEqual(segments);
  });

  it('names an audit action for every mutating route, each once, and none for a read', () => {
    const mutating = FLEET_API_ROUTES.filter((r) => r.method !== 'get');
    const actions = mutating.map((r) => r.audit?.action ?? `(none for ${r.method} ${r.path})`);
    // An action may name a path parameter (`rollout.{action}`), filled in from the path.
    for (const action of actions) expect(isAuditAction(action.replace(/\{(\w+)\}/g, '$1')), action).toBe(true);
    expect(new Set(actions).size).toBe(actions.length);
    expect(FLEET_API_ROUTES.filter((r) => r.method === 'get' && r.audit)).toEqual([]);
  });

  it('notices a route the table leaves out', () => {
    const { router } = services();
    const partial = openApiDocument(FLEET_API_ROUTES.filter((r) => r.path !== '/restarts'));
    expect(documented(partial)).not.toEqual(registered(router.routes));
  });

  it('is served at GET /api/v1/openapi.json as an OpenAPI 3.1 document', async () => {
    const app = createApp({ agents: new MemoryAgentStore(), routes: [services()], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
    const response = await app.request('/api/v1/openapi.json');
    expect(response.status).toBe(200);
    const served = (await response.json()) as { openapi: string };
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(served.openapi).toBe('3.1.0');
  });

  // Each body as the edge tests send it; the schema in the document must admit what the route admits.
  it.each([
    ['post', '/restarts', { selector: 'service.name=checkout' }],
    ['post', '/agents/{instanceUid}/messages', { capability: 'io.example.chat', type: 'hello' }],
    ['put', '/configs/{name}', { files: { 'a.yaml': { content: 'a: 1' } } }],
    ['put', '/assignments/{name}', { config: 'web', selector: 'service.name=checkout' }],
    ['post', '/packages/{name}/{version}/upload', { file: 'collector.tgz' }],
    ['put', '/settings/{name}', { ownLogs: { endpoint: 'https://logs.example/v1/logs' } }],
    ['put', '/certificates/{name}', { cert: 'PEM' }],
    ['post', '/tokens', { name: 'fresh' }],
  ])('%s %s: the documented body schema is the validating one', (method, path, example) => {
    const described = route(method, path);
    expect(described.body!.safeParse(example).success).toBe(true);
    const doc = openApiDocument();
    const schema = (doc.paths[path] as Record<string, { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } }>)[method]!.requestBody.content['application/json']!.schema;
    const properties = Object.keys(schema.properties as object);
    // A strict body: the document names every field the schema knows, requires what it requires, and no more.
    expect(schema.additionalProperties).toBe(false);
    for (const key of Object.keys(example)) expect(properties).toContain(key);
    for (const key of (schema.required as string[] | undefined) ?? []) expect(Object.keys(example)).toContain(key);
    expect(described.body!.safeParse({ ...example, unknownField: 1 }).success).toBe(false);
  });

  // What the routes answer, as the edge tests see it, is among the documented answers.
  it.each([
    ['get', '/agents', 'GET', '/agents', undefined],
    ['get', '/agents', 'GET', '/agents?limit=0', undefined],
    ['get', '/agents/{instanceUid}', 'GET', '/agents/0192f9e4-8a1b-7c3d-9e4f-00000000ffff', undefined],
    ['get', '/agents/{instanceUid}', 'GET', '/agents/not-a-uid', undefined],
    ['post', '/agents/{instanceUid}/restart', 'POST', '/agents/0192f9e4-8a1b-7c3d-9e4f-00000000ffff/restart', undefined],
    ['post', '/restarts', 'POST', '/restarts', { selector: 'service.name=checkout' }],
    ['post', '/restarts', 'POST', '/restarts', { selector: '' }],
    ['put', '/configs/{name}', 'PUT', '/configs/web', { files: { 'a.yaml': { content: 'a: 1' } } }],
    ['put', '/configs/{name}', 'PUT', '/configs/bad%20name', { files: {} }],
    ['get', '/configs/{name}', 'GET', '/configs/missing', undefined],
    ['put', '/settings/{name}', 'PUT', '/settings/default', { ownLogs: { endpoint: 'https://logs.example/v1/logs' } }],
    ['post', '/packages/{name}/{version}/upload', 'POST', '/packages/collector/1.0.0/upload', { file: 'collector.tgz' }],
    ['put', '/certificates/{name}', 'PUT', '/certificates/client', { cert: 'PEM, checked by the service' }],
    ['get', '/certificates/expiring', 'GET', '/certificates/expiring?withinDays=14', undefined],
    ['post', '/tokens', 'POST', '/tokens', { name: 'fresh' }],
    ['delete', '/tokens/{name}', 'DELETE', '/tokens/missing', undefined],
    ['get', '/bucket/rejected', 'GET', '/bucket/rejected', undefined],
    ['get', '/audit', 'GET', '/audit?since=1h&source=api', undefined],
    ['get', '/audit', 'GET', '/audit?since=yesterday', undefined],
  ])('%s %s answers %s %s with a documented status', async (method, path, sendMethod, sendPath, body) => {
    const app = createApp({ agents: new MemoryAgentStore(), routes: [services()], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
    const response = await app.request(`/api/v1${sendPath}`, {
      method: sendMethod,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    expect(Object.keys(operationOf(method, path).responses)).toContain(String(response.status));
  });

  it('documents the 415 a body route gives a body not declared JSON', async () => {
    const app = createApp({ agents: new MemoryAgentStore(), routes: [services()], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
    const response = await app.request('/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' });
    expect(response.status).toBe(415);
    expect(Object.keys(operationOf('post', '/tokens').responses)).toContain('415');
  });
});
