import { Hono } from 'hono';
import { z } from 'zod';
import { isCanonicalInstanceUid } from '../../core/instance-uid.js';
import { LIVENESS_VALUES } from '../../core/liveness.js';
import { parseSelector, SelectorSyntaxError } from '../../core/selector.js';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import type { AgentQueries } from '../../service/agent-queries.js';
import { HttpError } from '../errors.js';

const listQuery = z.object({
  selector: z.string().optional(),
  liveness: z.enum(LIVENESS_VALUES as [string, ...string[]]).optional(),
  /** Agents whose last poll authenticated with this token. */
  token: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});

/** GET /api/v1/agents and GET /api/v1/agents/{instanceUid}. */
export function agentsApi(queries: AgentQueries): Hono {
  const api = new Hono();

  api.get('/', async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success) throw badRequest(parsed.error);
    const { selector, liveness, token, limit, cursor } = parsed.data;
    const result = await queries.list({
      selector: selector === undefined ? undefined : parseSelectorParam(selector),
      liveness: liveness as (typeof LIVENESS_VALUES)[number] | undefined,
      token,
      limit,
      cursor,
    });
    // Agent text may hold URLs with credentials in their query strings; they are never shown.
    return c.json(redactStringsInPlace(result));
  });

  api.get('/:instanceUid', async (c) => {
    const uid = c.req.param('instanceUid').toLowerCase();
    if (!isCanonicalInstanceUid(uid)) {
      throw new HttpError(400, 'invalid-instance-uid', 'instance uid must be a canonical UUID (8-4-4-4-12 hex digits)');
    }
    const agent = await queries.get(uid);
    if (!agent) throw new HttpError(404, 'agent-not-found', `no agent with instance uid ${uid}`);
    return c.json(redactStringsInPlace(agent));
  });

  return api;
}

function parseSelectorParam(text: string) {
  try {
    return parseSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw new HttpError(400, 'invalid-selector', error.message);
    throw error;
  }
}

/** A zod failure as one readable line: `limit: Too big: expected number to be <=1000`. */
export function badRequest(error: z.ZodError): HttpError {
  const detail = error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  return new HttpError(400, 'invalid-request', detail);
}
