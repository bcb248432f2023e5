import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { assertNoViolation, isValidName, NAME_RULE_TEXT, nameViolation } from '../../core/names.js';
import type { TokenAdmin } from '../../service/agent-tokens.js';
import { badRequest, HttpError } from '../errors.js';

const createBody = z.strictObject({
  name: z.string().check(z.refine(isValidName, `token names are ${NAME_RULE_TEXT}`)),
  /** Kept by the server, to hand to agents in connection settings offers. */
  deliverable: z.optional(z.boolean()),
});

/**
 * Agent tokens: /api/v1/tokens. A token is shown once, when it is created.
 * Revoking one that agents still use (or that settings hand out) is refused
 * with 409 unless `?force=true`.
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
  api.get('/:name/agents', async (c) => c.json({ name: tokenName(c.req.param('name')), agents: await tokens.agentsUsing(c.req.param('name')) }));
  api.delete('/:name', async (c) => {
    const name = tokenName(c.req.param('name'));
    const force = c.req.query('force');
    if (force !== undefined && force !== 'true' && force !== 'false') throw new HttpError(400, 'invalid-query', 'force must be true or false');
    if (!(await tokens.revoke(name, { force: force === 'true' }))) throw new HttpError(404, 'token-not-found', `no token named ${name}`);
    return c.body(null, 204);
  });
  return api;
}

function tokenName(name: string): string {
  assertNoViolation(nameViolation('token', name));
  return name;
}
