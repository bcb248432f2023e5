import { Hono } from 'hono';
import { z } from 'zod';
import { isValidName, NAME_RULE_TEXT } from '../../core/names.js';
import type { TokenAdmin } from '../../service/agent-tokens.js';
import { apiErrors } from '../errors.js';
import { jsonBody, pathParams, validQuery } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';

/** POST /api/v1/tokens. */
export const createTokenBody = z
  .object({
    name: z.string().refine(isValidName, `token names are ${NAME_RULE_TEXT}`),
    /** Kept by the server, to hand to agents in connection settings offers. */
    deliverable: z.boolean().optional(),
  })
  .strict();

export type CreateTokenBody = z.input<typeof createTokenBody>;

const revokeQuery = z.object({ force: z.enum(['true', 'false'], 'force must be true or false').optional() });

const named = pathParams({ name: 'token' });

/**
 * Agent tokens: /api/v1/tokens. A token is shown once, when it is created.
 * Revoking one that agents still use (or that settings hand out) is refused
 * with 409 unless `?force=true`.
 */
export function tokensApi(tokens: TokenAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ tokens: await tokens.list() }));
  api.post('/', jsonBody(createTokenBody, body), async (c) => {
    const { name, deliverable } = c.req.valid('json');
    return c.json(await tokens.create(name, { deliverable: deliverable ?? false }), 201);
  });
  api.get('/:name/agents', named, async (c) => {
    const { name } = c.req.valid('param');
    return c.json({ name, agents: await tokens.agentsUsing(name) });
  });
  api.delete('/:name', named, validQuery(revokeQuery), async (c) => {
    const { name } = c.req.valid('param');
    if (!(await tokens.revoke(name, { force: c.req.valid('query').force === 'true' }))) {
      throw apiErrors.notFound('token-not-found', `no token named ${name}`);
    }
    return c.body(null, 204);
  });
  return api;
}
