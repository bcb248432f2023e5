import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { isCanonicalInstanceUid } from '../../core/instance-uid.js';
import { LIVENESS_VALUES } from '../../core/liveness.js';
import { parseSelector } from '../../core/selector.js';
import type { AgentQueries } from '../../service/agent-queries.js';
import { badRequest, HttpError } from '../errors.js';

const listQuery = z.object({
  selector: z.optional(z.string()),
  liveness: z.optional(z.enum(LIVENESS_VALUES as [string, ...string[]])),
  /** Agents whose last poll authenticated with this token. */
  token: z.optional(z.string().check(z.minLength(1))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
  cursor: z.optional(z.string().check(z.minLength(1))),
});

/** GET /api/v1/agents and GET /api/v1/agents/{instanceUid}. */
export function agentsApi(queries: AgentQueries): Hono {
  const api = new Hono();

  api.get('/', async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success) throw badRequest(parsed.error);
    const { selector, liveness, token, limit, cursor } = parsed.data;
    const result = await queries.list({
      selector: selector === undefined ? undefined : parseSelector(selector),
      liveness: liveness as (typeof LIVENESS_VALUES)[number] | undefined,
      token,
      limit,
      cursor,
    });
    return c.json(result);
  });

  api.get('/:instanceUid', async (c) => {
    const uid = c.req.param('instanceUid').toLowerCase();
    if (!isCanonicalInstanceUid(uid)) {
      throw new HttpError(400, 'invalid-instance-uid', 'instance uid must be a canonical UUID (8-4-4-4-12 hex digits)');
    }
    const agent = await queries.get(uid);
    if (!agent) throw new HttpError(404, 'agent-not-found', `no agent with instance uid ${uid}`);
    return c.json(agent);
  });

  return api;
}
