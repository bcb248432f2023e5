import { Hono } from 'hono';
import { z } from 'zod';
import { isValidName } from '../../core/bucket-layout.js';
import type { TokenAdmin } from '../../service/agent-tokens.js';
import { HttpError } from '../errors.js';
import { badRequest } from './agents-api.js';

const createBody = z
  .object({
    name: z.string().refine(isValidName, 'names are 1-128 letters, digits, ".", "_" or "-"'),
    /** Kept by the server, to hand to agents in connection settings offers. */
    deliverable: z.boolean().optional(),
  })
  .strict();

/**
 * Agent tokens: /api/v1/tokens. A token is shown once, when it is created.
 * Revoking one that live agents still use (or that settings hand out) is
 * refused with 409, unless `?replacement=<token>` names a deliverable token
 * to move them to first (202, `rotating`: repeat the request until it is
 * revoked, 204) or `?force=true` revokes it at once.
 */
export function tokensApi(tokens: TokenAdmin): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ tokens: await tokens.list() }));
  api.post('/', async (c) => {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new HttpError(400, 'invalid-json', 'request body is not valid JSON');
    }
    const parsed = createBody.safeParse(json);
    if (!parsed.success) throw badRequest(parsed.error);
    return c.json(await tokens.create(parsed.data.name, { deliverable: parsed.data.deliverable ?? false }), 201);
  });
  api.get('/:name/agents', async (c) => c.json({ name: c.req.param('name'), ...(await tokens.agentsUsing(c.req.param('name'))) }));
  api.delete('/:name', async (c) => {
    const name = c.req.param('name');
    const force = c.req.query('force');
    if (force !== undefined && force !== 'true' && force !== 'false') throw new HttpError(400, 'invalid-query', 'force must be true or false');
    const replacement = c.req.query('replacement');
    if (replacement !== undefined && !isValidName(replacement)) throw new HttpError(400, 'invalid-query', 'replacement must be a token name');
    const outcome = await tokens.revoke(name, { force: force === 'true', ...(replacement !== undefined ? { replacement } : {}) });
    if (!outcome) throw new HttpError(404, 'token-not-found', `no token named ${name}`);
    if (outcome.status === 'rotating') return c.json({ name, ...outcome }, 202);
    return c.body(null, 204);
  });
  return api;
}
