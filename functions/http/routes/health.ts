import { Hono } from 'hono';
import type { AgentStore } from '../../ports/agent-store.js';

/** GET /healthz: 200 when the store answers, 503 otherwise. */
export function healthRoute(agents: AgentStore): Hono {
  const route = new Hono();
  route.get('/', async (c) => {
    await agents.ping();
    return c.json({ status: 'ok' });
  });
  return route;
}
