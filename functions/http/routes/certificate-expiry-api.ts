import { Hono } from 'hono';
import { z } from 'zod';
import { DAY_MS } from '../../core/certificate-expiry.js';
import type { AgentStore } from '../../ports/agent-store.js';
import { expiringCertificates } from '../../service/certificate-expiry.js';
import { badRequest } from './agents-api.js';

const query = z.object({ withinDays: z.coerce.number().min(0).max(3650).optional() }).strict();

/**
 * GET /api/v1/certificates/expiring?withinDays=14: the certificates agents
 * hold that expire within that many days (the configured warning window by
 * default), with the agents holding each.
 */
export function certificateExpiryApi(deps: { agents: AgentStore; now: () => number; warningMs: number }): Hono {
  const api = new Hono();
  api.get('/', async (c) => {
    const parsed = query.safeParse(c.req.query());
    if (!parsed.success) throw badRequest(parsed.error);
    const windowMs = parsed.data.withinDays !== undefined ? parsed.data.withinDays * DAY_MS : deps.warningMs;
    return c.json({ withinDays: windowMs / DAY_MS, certificates: await expiringCertificates(deps.agents, deps.now(), windowMs) });
  });
  return api;
}
