import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { AgentCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { AgentActions } from '../../../functions/service/agent-actions.js';
import { AgentQueries } from '../../../functions/service/agent-queries.js';
import { LIVENESS, T0 } from './support.js';

const UID = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';

/** An agent that accepts restarts and matches `service.name=checkout`. */
function record(): AgentRecord {
  return {
    instanceUid: UID,
    version: 0,
    sequenceNum: 1n,
    lastMessageDigest: 'd',
    capabilities: BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus | AgentCapabilities.AgentCapabilities_AcceptsRestartCommand),
    firstSeenAt: T0 - 60_000,
    lastSeenAt: T0 - 1_000,
    attributes: { 'service.name': 'checkout' },
    sections: {},
    sectionIds: {},
    expiresAt: 0,
  };
}

function appWithActions() {
  const agents = new MemoryAgentStore();
  const now = () => T0;
  const queries = new AgentQueries(agents, now, LIVENESS);
  const actions = new AgentActions({ agents, now, ttlMs: 60_000 });
  const app = createApp({ agents, routes: [fleetApiRoutes({ queries, actions })], limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });
  return { app, agents };
}

describe('a malformed selector, wherever it comes in', () => {
  it.each(['service.name', '=checkout', 'service.name=checkout,env'])('POST /api/v1/restarts {"selector": %j} answers 400 invalid-selector and queues nothing', async (selector) => {
    const { app, agents } = appWithActions();
    await agents.put({ record: record(), expectedVersion: 0 });

    const response = await app.request('/api/v1/restarts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ selector }) });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid-selector', message: expect.stringContaining('selector') } });
    expect((await agents.get(UID))?.pendingCommand).toBeUndefined();
  });

  it('queues the restart when the same request carries a valid selector', async () => {
    const { app, agents } = appWithActions();
    await agents.put({ record: record(), expectedVersion: 0 });

    const response = await app.request('/api/v1/restarts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ selector: 'service.name=checkout' }) });

    expect(response.status).toBe(202);
    expect((await agents.get(UID))?.pendingCommand).toBeDefined();
  });
});
