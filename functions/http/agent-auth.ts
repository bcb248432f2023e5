import type { MiddlewareHandler } from 'hono';
import type { AgentAuthenticator } from '../service/agent-tokens.js';
import { HttpError } from './errors.js';

export type AgentAuthVariables = {
  /** The accepted token's name; absent while the check waits for the token set to be revalidated. */
  agentToken?: string;
  /** Set when the poll must verify the token after its read revalidated the token set. */
  verifyAgentToken?: () => Promise<void>;
};

export function unauthorized(): HttpError {
  return new HttpError(401, 'unauthorized', 'a valid agent token is required', { 'www-authenticate': 'Bearer' });
}

/**
 * Requires `Authorization: Bearer <token>` with a valid agent token. Decided
 * before the body is read whenever the cached token set is fresh; when it is
 * due for revalidation, the poll verifies the token right after the read that
 * revalidates it, before anything is decided or stored. A refused request
 * gets a bare 401 and touches no agent state.
 */
export function agentAuth(authenticator: AgentAuthenticator): MiddlewareHandler<{ Variables: AgentAuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const check = authenticator.check(header);
    if (check.verdict === 'refused') throw unauthorized();
    if (check.verdict === 'accepted') {
      c.set('agentToken', check.tokenName);
    } else {
      c.set('verifyAgentToken', async () => {
        const tokenName = await authenticator.verify(header);
        if (tokenName === undefined) throw unauthorized();
        c.set('agentToken', tokenName);
      });
    }
    await next();
  };
}
