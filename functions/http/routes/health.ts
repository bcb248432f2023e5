import { Hono } from 'hono';
import type { AgentStore } from '../../ports/agent-store.js';

/** GET /healthz: 200 when the store answers, 503 whatever the reason it does not. */
export function healthRoute(agents: AgentStore): Hono {
  const route = new Hono();
  route.get('/', async (c) => {
    try {
      await agents.ping();
    } catch (error) {
      return c.json({ status: 'unavailable', error: error instanceof Error ? error.name : 'Error' }, 503);
    }
    return c.json({ status: 'ok' });
  });
  return route;
}
