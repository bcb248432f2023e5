import { Hono } from 'hono';
import { z } from 'zod';
import { LIVENESS_VALUES } from '../../core/liveness.js';
import type { Liveness } from '../../core/liveness.js';
import { parseSelector, SelectorSyntaxError } from '../../core/selector.js';
import type { Selector } from '../../core/selector.js';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import type { AgentQueries } from '../../service/agent-queries.js';
import { apiErrors } from '../errors.js';
import { pathParams, validQuery } from '../validation.js';

const listQuery = z.object({
  selector: z.string().optional(),
  liveness: z.enum(LIVENESS_VALUES as [Liveness, ...Liveness[]]).optional(),
  /** Agents whose last poll authenticated with this token. */
  token: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});

export type AgentListQueryParams = z.input<typeof listQuery>;

/** GET /api/v1/agents and GET /api/v1/agents/{instanceUid}. */
export function agentsApi(queries: AgentQueries): Hono {
  const api = new Hono();

  api.get('/', validQuery(listQuery), async (c) => {
    const { selector, ...query } = c.req.valid('query');
    const result = await queries.list({ ...query, selector: selector === undefined ? undefined : parseSelectorParam(selector) });
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

/** A selector from a query or body, 400 `invalid-selector` when it does not parse. */
export function parseSelectorParam(text: string): Selector {
  try {
    return parseSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw apiErrors.invalidSelector(error.message);
    throw error;
  }
}
