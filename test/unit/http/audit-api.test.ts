import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryAuditLog } from '../../../functions/adapters/memory/audit-log.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { MemoryTokenStore } from '../../../functions/adapters/memory/token-store.js';
import type { AuditEntry } from '../../../functions/core/audit.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { requestPrincipal } from '../../../functions/http/principal.js';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { AuditLog } from '../../../functions/ports/audit-log.js';
import { AgentActions } from '../../../functions/service/agent-actions.js';
import { TokenAdmin } from '../../../functions/service/agent-tokens.js';
import { AuditTrail } from '../../../functions/service/audit-trail.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from '../service/memory-object-store.js';
import { T0 } from './support.js';

const ROLE = 'arn:aws:sts::123456789012:assumed-role/fleet-operators/alice';

function fleetApi(log: AuditLog = new MemoryAuditLog(() => T0), telemetry: Telemetry = NO_TELEMETRY) {
  const agents = new MemoryAgentStore();
  const fleet = new MemoryFleetStore();
  const routes = fleetApiRoutes({
    admin: new FleetAdmin({ objects: new MemoryObjectStore(), fleet, agents, now: () => T0, remoteConfig: POLICY, uploads: { signPut: async (key) => `http://s3.invalid/${key}` } }),
    actions: new AgentActions({ agents, now: () => T0, ttlMs: 60_000 }),
    tokens: new TokenAdmin(new MemoryTokenStore(), () => T0, { agents, fleet: { current: async () => (await fleet.load()).state } }),
    audit: { log: new AuditTrail(log, telemetry), now: () => T0, principal: (c) => requestPrincipal(c, 'local') },
  });
  return createApp({ agents, routes: [routes], limits: DEFAULT_HTTP_LIMITS, telemetry });
}

const json = (method: string, body: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A Function URL event's request context as hono/aws-lambda hands it to the app (c.env.event). */
const lambdaEnv = (iam: Record<string, string>) => ({ event: { requestContext: { authorizer: { iam } } } });

describe('the fleet API audit', () => {
  it('records an accepted assignment upload with the principal, the target and the status', async () => {
    const log = new MemoryAuditLog(() => T0);
    const app = fleetApi(log);

    const response = await app.request('/api/v1/assignments/checkout', json('PUT', { config: 'web', selector: 'service.name=checkout' }));

    expect(response.status).toBe(202);
    expect(log.all()).toEqual([{ at: T0, principal: 'local', source: 'api', action: 'assignment.put', target: 'assignments/checkout', result: 'ok', status: 202 }]);
  });

  it('records a refused request as refused, with the error message, and changes nothing else', async () => {
    const log = new MemoryAuditLog(() => T0);
    const app = fleetApi(log);

    const response = await app.request('/api/v1/assignments/checkout', json('PUT', { config: 'web', selector: 'service.name=checkout', colour: 'blue' }));

    expect(response.status).toBe(400);
    const [entry] = log.all();
    expect(entry).toMatchObject({ action: 'assignment.put', target: 'assignments/checkout', result: 'refused', status: 400 });
    expect(entry!.message).toBe(((await response.json()) as { error: { message: string } }).error.message);
    expect((await app.request('/api/v1/assignments/checkout')).status).toBe(404);
  });

  it('names the target of a removal, a restart and a token from the path or the body, with query and body details', async () => {
    const log = new MemoryAuditLog(() => T0);
    const app = fleetApi(log);
    const uid = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';

    await app.request('/api/v1/tokens', json('POST', { name: 'fleet-1' }));
    await app.request('/api/v1/tokens/fleet-1?force=true', { method: 'DELETE' });
    await app.request(`/api/v1/agents/${uid}/restart`, { method: 'POST' });
    await app.request('/api/v1/restarts', json('POST', { selector: 'service.name=checkout' }));

    expect(log.all().map(({ action, target, result, detail }) => ({ action, target, result, detail }))).toEqual([
      { action: 'token.create', target: 'tokens/fleet-1', result: 'ok', detail: { name: 'fleet-1' } },
      { action: 'token.revoke', target: 'tokens/fleet-1', result: 'ok', detail: { force: 'true' } },
      { action: 'agent.restart', target: `agents/${uid}`, result: 'refused', detail: undefined },
      { action: 'agents.restart', target: 'restarts', result: 'ok', detail: { selector: 'service.name=checkout' } },
    ]);
  });

  it('records nothing for reads and for paths no route serves', async () => {
    const log = new MemoryAuditLog(() => T0);
    const app = fleetApi(log);

    await app.request('/api/v1/assignments');
    await app.request('/api/v1/audit');
    await app.request('/api/v1/nothing-here', { method: 'DELETE' });

    expect(log.all()).toEqual([]);
  });

  it('records the IAM principal of a Function URL request, or its caller id when it has no ARN', async () => {
    const log = new MemoryAuditLog(() => T0);
    const app = fleetApi(log);

    await app.request('/api/v1/assignments/a', { method: 'DELETE' }, lambdaEnv({ userArn: ROLE, callerId: 'AROAEXAMPLE:alice' }));
    await app.request('/api/v1/assignments/b', { method: 'DELETE' }, lambdaEnv({ callerId: 'AROAEXAMPLE:bob' }));

    expect(log.all().map((e) => e.principal)).toEqual([ROLE, 'AROAEXAMPLE:bob']);
  });

  it('answers the request as it would have when the audit entry cannot be written, and counts the failure', async () => {
    const counted: string[] = [];
    const telemetry: Telemetry = { ...NO_TELEMETRY, count: (metric) => counted.push(metric) };
    const failing: AuditLog = {
      record: async () => {
        throw new Error('table unavailable');
      },
      list: async () => ({ entries: [] }),
    };
    const app = fleetApi(failing, telemetry);

    const response = await app.request('/api/v1/assignments/checkout', json('PUT', { config: 'web', selector: 'service.name=checkout' }));

    expect(response.status).toBe(202);
    expect(counted).toContain('AuditWriteFailed');
  });

  it('lists entries newest first, filtered, with a cursor for the next page', async () => {
    const log = new MemoryAuditLog(() => T0);
    const at = (minutes: number): AuditEntry => ({ at: T0 - minutes * 60_000, principal: 'local', source: 'api', action: 'assignment.put', target: `assignments/a${minutes}`, result: 'ok' });
    for (const minutes of [5, 10, 15, 120]) await log.record(at(minutes));
    await log.record({ ...at(1), source: 'bucket', principal: 'AWS:AROAEXAMPLE:alice', action: 'config-file.put', target: 'configs/web/a.yaml' });
    const app = fleetApi(log);

    const first = (await (await app.request('/api/v1/audit?since=1h&source=api&limit=2')).json()) as { entries: Array<{ at: string; target: string }>; nextCursor: string };
    const second = (await (await app.request(`/api/v1/audit?since=1h&source=api&limit=2&cursor=${first.nextCursor}`)).json()) as { entries: Array<{ target: string }>; nextCursor?: string };
    const byPrincipal = (await (await app.request('/api/v1/audit?principal=AWS:AROAEXAMPLE:alice')).json()) as { entries: Array<{ target: string }> };

    expect(first.entries.map((e) => e.target)).toEqual(['assignments/a5', 'assignments/a10']);
    expect(first.entries[0]!.at).toBe(new Date(T0 - 5 * 60_000).toISOString());
    expect(second.entries.map((e) => e.target)).toEqual(['assignments/a15']);
    expect(second.nextCursor).toBeUndefined();
    expect(byPrincipal.entries.map((e) => e.target)).toEqual(['configs/web/a.yaml']);
  });

  it.each([
    ['since=yesterday', /since must be an ISO time/],
    ['until=2026-13-40', /until must be an ISO time/],
    ['limit=5000', /limit must be a whole number from 1 to 1000/],
    ['source=console', /source/],
    ['cursor=abc', /cursor is not one this server gave out/],
  ])('refuses ?%s with a 400 naming the problem', async (query, message) => {
    const response = await fleetApi().request(`/api/v1/audit?${query}`);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
  });
});
