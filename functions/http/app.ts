import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { beforeDeadline, withDeadline } from '../ports/deadline.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { AgentAuthenticator } from '../service/agent-tokens.js';
import type { PollService } from '../service/poll-service.js';
import { errorResponse } from './error-responses.js';
import { apiErrors } from './errors.js';
import type { RouteGroup } from './fleet-api-routes.js';
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

/** How long each kind of request may wait for its stores, all attempts together, before it is answered 503. */
export interface RequestDeadlines {
  /** POST /v1/opamp. Well inside the agent function's timeout, and short: agents retry a 503 anyway. */
  pollMs: number;
  /** GET /healthz: load balancers and probes give up after a few seconds. */
  healthMs: number;
  /** The fleet API: listings may read many pages. */
  apiMs: number;
}

export const DEFAULT_DEADLINES: RequestDeadlines = { pollMs: 2_500, healthMs: 1_500, apiMs: 20_000 };

/**
 * Store calls fail at the deadline and the routes answer that as a 503 of
 * their own (a protobuf one on /v1/opamp); this margin lets them, and only
 * if something else hangs does the edge itself answer.
 */
const DEADLINE_MARGIN_MS = 250;

function deadline(ms: number): MiddlewareHandler {
  return (_c, next) => withDeadline(ms, () => beforeDeadline(next(), { at: Date.now() + ms + DEADLINE_MARGIN_MS, signal: AbortSignal.timeout(ms + DEADLINE_MARGIN_MS) }));
}

export interface AppDeps {
  /** Answers GET /healthz. */
  agents: AgentStore;
  /** The agent endpoint, POST /v1/opamp. */
  polls?: PollService | undefined;
  /** When set, the agent endpoint requires a valid bearer token. */
  agentAuth?: AgentAuthenticator | undefined;
  /** Further route groups, such as the fleet API (see fleet-api-routes.ts). */
  routes?: readonly RouteGroup[] | undefined;
  limits: HttpLimits;
  /** DEFAULT_DEADLINES when absent. */
  deadlines?: RequestDeadlines | undefined;
  telemetry: Telemetry;
}

/**
 * Builds the one Hono app every deployment serves. Which routes exist depends
 * on what is given: the public agent function gets `polls` only, the
 * IAM-authenticated fleet API function the fleet API routes only, and the
 * local backend both.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const errorOptions = { ...deps.limits, telemetry: deps.telemetry };
  const deadlines = deps.deadlines ?? DEFAULT_DEADLINES;

  // A path that exists with other methods answers 405 with the methods its routes take.
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, allow) => errorResponse(c, apiErrors.methodNotAllowed(allow), errorOptions) }));
  app.use('/healthz', deadline(deadlines.healthMs));
  if (deps.polls) app.use('/v1/opamp', deadline(deadlines.pollMs));
  for (const group of deps.routes ?? []) app.use(`${group.basePath}/*`, deadline(deadlines.apiMs));
  app.route('/healthz', healthRoute(deps.agents));
  if (deps.polls) {
    app.route('/v1/opamp', opampRoute({ polls: deps.polls, auth: deps.agentAuth, ...deps.limits, telemetry: deps.telemetry }));
  }
  for (const group of deps.routes ?? []) app.route(group.basePath, group.router);

  app.notFound((c) => errorResponse(c, apiErrors.noRoute(c.req.method, c.req.path), errorOptions));
  app.onError((error, c) => errorResponse(c, error, errorOptions));
  return app;
}
