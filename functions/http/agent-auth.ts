import type { MiddlewareHandler } from 'hono';
import type { AgentAuthenticator } from '../service/agent-tokens.js';
import { HttpError } from './errors.js';

export type AgentAuthVariables = { agentToken: string };

/**
 * Requires `Authorization: Bearer <token>` with a valid agent token. Runs
 * before the body is read; a refused request gets a bare 401 and touches no
 * agent state.
 */
export function agentAuth(authenticator: AgentAuthenticator): MiddlewareHandler<{ Variables: AgentAuthVariables }> {
  return async (c, next) => {
    const tokenName = await authenticator.authenticate(c.req.header('authorization'));
    if (tokenName === undefined) {
      throw new HttpError(401, 'unauthorized', 'a valid agent token is required', { 'www-authenticate': 'Bearer' });
    }
    c.set('agentToken', tokenName);
    await next();
  };
}
