import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { LIVENESS_VALUES } from '../../core/liveness.js';
import type { Liveness } from '../../core/liveness.js';
import { parseSelector } from '../../core/selector.js';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import type { AgentQueries } from '../../service/agent-queries.js';
import { apiErrors } from '../errors.js';
import { pathParams, validQuery } from '../validation.js';

export const listQuery = z.object({
  selector: z.optional(z.string()),
  liveness: z.optional(z.enum(LIVENESS_VALUES as [Liveness, ...Liveness[]])),
  /** Agents whose last poll authenticated with this token. */
  token: z.optional(z.string().check(z.minLength(1))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
  cursor: z.optional(z.string().check(z.minLength(1))),
});

export type AgentListQueryParams = z.input<typeof listQuery>;

/** GET /api/v1/agents and GET /api/v1/agents/{instanceUid}. */
export function agentsApi(queries: AgentQueries): Hono {
  const api = new Hono();

  api.get('/', validQuery(listQuery), async (c) => {
    const { selector, ...query } = c.req.valid('query');
    const result = await queries.list({ ...query, selector: selector === undefined ? undefined : parseSelector(selector) });
    // Agent text may hold URLs with credentials in their query strings; they are never shown.
    return c.json(redactStringsInPlace(result));
  });

  api.get('/:instanceUid', pathParams({ instanceUid: 'instance-uid' }), async (c) => {
    const uid = c.req.valid('param').instanceUid;
    const agent = await queries.get(uid);
    if (!agent) throw apiErrors.notFound('agent-not-found', `no agent with instance uid ${uid}`);
    return c.json(redactStringsInPlace(agent));
  });

  return api;
}
