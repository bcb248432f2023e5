import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { isValidName, NAME_RULE_TEXT } from '../../core/names.js';
import type { TokenAdmin } from '../../service/agent-tokens.js';
import { apiErrors } from '../errors.js';
import { jsonBody, pathParams, validQuery } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';

/** POST /api/v1/tokens. */
export const createTokenBody = z.strictObject({
  name: z.string().check(z.refine(isValidName, `token names are ${NAME_RULE_TEXT}`)),
  /** Kept by the server, to hand to agents in connection settings offers. */
  deliverable: z.optional(z.boolean()),
});

export type CreateTokenBody = z.input<typeof createTokenBody>;

export const revokeQuery = z.object({
  force: z.optional(z.enum(['true', 'false'], 'force must be true or false')),
  replacement: z.optional(z.string().check(z.refine(isValidName, 'replacement must be a token name'))),
});

const named = pathParams({ name: 'token' });

/**
 * Agent tokens: /api/v1/tokens. A token is shown once, when it is created.
 * Revoking one that live agents still use (or that settings hand out) is
 * refused with 409, unless `?replacement=<token>` names a deliverable token
 * to move them to first (202, `rotating`: repeat the request until it is
 * revoked, 204) or `?force=true` revokes it at once.
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
    return c.json({ name, ...(await tokens.agentsUsing(name)) });
  });
  api.delete('/:name', named, validQuery(revokeQuery), async (c) => {
    const { name } = c.req.valid('param');
    const { force, replacement } = c.req.valid('query');
    const outcome = await tokens.revoke(name, { force: force === 'true', ...(replacement !== undefined ? { replacement } : {}) });
    if (!outcome) throw apiErrors.notFound('token-not-found', `no token named ${name}`);
    if (outcome.status === 'rotating') return c.json({ name, ...outcome }, 202);
    return c.body(null, 204);
  });
  return api;
}
