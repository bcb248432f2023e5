import { Hono } from 'hono';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { AgentQueries } from '../service/agent-queries.js';
import type { PollService } from '../service/poll-service.js';
import { errorResponse } from './error-responses.js';
import { HttpError } from './errors.js';
import { agentsApi } from './routes/agents-api.js';
import { fleetApi } from './routes/fleet-api.js';
import { tokensApi } from './routes/tokens-api.js';
import { agentActionsApi } from './routes/agent-actions-api.js';
import type { AgentActions } from '../service/agent-actions.js';
import type { AgentAuthenticator, TokenAdmin } from '../service/agent-tokens.js';
import type { FleetAdmin } from '../service/fleet-admin.js';
import { healthRoute } from './routes/health.js';
import { opampRoute } from './routes/opamp.js';

export interface HttpLimits {
  /** Largest accepted AgentToServer body, after decompression. */
  maxRequestBytes: number;
  /** Replies smaller than this are not gzipped. */
  gzipMinBytes: number;
  /** Seconds sent in Retry-After with a 503. */
  retryAfterSeconds: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  // Lambda takes 6 MB per synchronous invocation and Function URLs deliver
  // binary bodies base64-encoded (4/3 larger): 2 MiB leaves ample room.
  maxRequestBytes: 2 * 1024 * 1024,
  gzipMinBytes: 512,
  retryAfterSeconds: 30,
};

export interface AppDeps {
  agents: AgentStore;
  polls?: PollService | undefined;
  queries?: AgentQueries | undefined;
  /** Configurations and assignments (served with the fleet API). */
  admin?: FleetAdmin | undefined;
  /** Restart commands and custom messages (served with the fleet API). */
  actions?: AgentActions | undefined;
  /** Agent token management (served with the fleet API). */
  tokens?: TokenAdmin | undefined;
  /** When set, the agent endpoint requires a valid bearer token. */
  agentAuth?: AgentAuthenticator | undefined;
  limits: HttpLimits;
  telemetry: Telemetry;
}

/**
 * Builds the one Hono app that serves every route. Which routes exist depends
 * on the dependencies given: the public agent function gets `polls` only, the
 * IAM-authenticated fleet API function gets `queries` only, and the local
 * backend gets both.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const errorOptions = { ...deps.limits, telemetry: deps.telemetry };

  app.route('/healthz', healthRoute(deps.agents));
  if (deps.polls) {
    app.route('/v1/opamp', opampRoute({ polls: deps.polls, auth: deps.agentAuth, ...deps.limits, telemetry: deps.telemetry }));
  }
  if (deps.queries) {
    app.route('/api/v1/agents', agentsApi(deps.queries));
  }
  if (deps.admin) {
    app.route('/api/v1', fleetApi(deps.admin));
  }
  if (deps.tokens) {
    app.route('/api/v1/tokens', tokensApi(deps.tokens));
  }
  if (deps.actions) {
    app.route('/api/v1', agentActionsApi(deps.actions));
  }

  const served = [
    ['/healthz', 'GET'],
    ...(deps.polls ? [['/v1/opamp', 'POST']] : []),
    ...(deps.queries ? [['/api/v1/agents', 'GET'], ['/api/v1/agents/:instanceUid', 'GET']] : []),
    ...(deps.admin
      ? [
          ['/api/v1/configs', 'GET'],
          ['/api/v1/configs/:name', 'GET, PUT, DELETE'],
          ['/api/v1/configs/:name/rollout', 'GET'],
          ['/api/v1/assignments', 'GET'],
          ['/api/v1/assignments/:name', 'GET, PUT, DELETE'],
          ['/api/v1/packages', 'GET'],
          ['/api/v1/packages/:name/:version', 'DELETE'],
          ['/api/v1/packages/:name/:version/upload', 'POST'],
          ['/api/v1/packages/:name/:version/rollout', 'GET'],
        ]
      : []),
    ...(deps.actions
      ? [['/api/v1/agents/:instanceUid/restart', 'POST'], ['/api/v1/agents/:instanceUid/messages', 'GET, POST'], ['/api/v1/restarts', 'POST']]
      : []),
    ...(deps.tokens ? [['/api/v1/tokens', 'GET, POST'], ['/api/v1/tokens/:name', 'DELETE']] : []),
  ] as const;
  for (const [path, allow] of served) {
    app.all(path, () => {
      throw new HttpError(405, 'method-not-allowed', `use ${allow} for this path`, { allow: allow.startsWith('GET') ? allow.replace('GET', 'GET, HEAD') : allow });
    });
  }

  app.notFound((c) => errorResponse(c, new HttpError(404, 'not-found', `no route for ${c.req.method} ${c.req.path}`), errorOptions));
  app.onError((error, c) => errorResponse(c, error, errorOptions));
  return app;
}
