import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AuditLog } from '../ports/audit-log.js';
import type { RejectedKeyLog } from '../ports/rejected-keys.js';
import type { AgentActions } from '../service/agent-actions.js';
import type { AgentQueries } from '../service/agent-queries.js';
import type { TokenAdmin } from '../service/agent-tokens.js';
import type { FleetAdmin } from '../service/fleet-admin.js';
import { agentActionsApi } from './routes/agent-actions-api.js';
import { agentsApi } from './routes/agents-api.js';
import { auditApi } from './routes/audit-api.js';
import { auditMutations } from './audit-middleware.js';
import { FLEET_API_ROUTES } from './openapi.js';
import { assignmentsApi } from './routes/assignments-api.js';
import { bucketApi } from './routes/bucket-api.js';
import { certificatesApi } from './routes/certificates-api.js';
import { configsApi } from './routes/configs-api.js';
import { configVersionsApi } from './routes/config-versions-api.js';
import { packagesApi } from './routes/packages-api.js';
import { settingsApi } from './routes/settings-api.js';
import { tokensApi } from './routes/tokens-api.js';
import { rolloutsApi } from './routes/rollouts-api.js';
import type { RolloutsApiOptions } from './routes/rollouts-api.js';
import type { RolloutEngine } from '../service/rollouts/rollout-engine.js';
import type { JsonBodyOptions } from './validation.js';
import { certificateHoldersApi } from './routes/certificate-expiry-api.js';
import type { CertificateHoldersDeps } from './routes/certificate-expiry-api.js';

/** A group of routes to mount under a base path. */
export interface RouteGroup {
  basePath: string;
  router: Hono;
}

export interface FleetApiServices {
  queries?: AgentQueries | undefined;
  admin?: FleetAdmin | undefined;
  actions?: AgentActions | undefined;
  tokens?: TokenAdmin | undefined;
  rejectedKeys?: RejectedKeyLog | undefined;
  /** Certificates as agents hold them (expiry, holders, the removal guard). */
  certificateHolders?: CertificateHoldersDeps | undefined;
  /** Staged rollouts: looked at, paused, resumed, aborted and promoted. */
  rollouts?: ({ engine: RolloutEngine } & RolloutsApiOptions) | undefined;
  /** Records every mutating request and serves GET /audit. */
  audit?: FleetApiAudit | undefined;
}

export interface FleetApiAudit {
  /** An AuditTrail: recording never fails a request. */
  log: AuditLog;
  now: () => number;
  /** Who made a request (see principal.ts). */
  principal: (c: Context) => string;
}

export interface FleetApiOptions {
  /** Largest accepted JSON body (default DEFAULT_MAX_JSON_BYTES). */
  maxJsonBytes?: number | undefined;
}

/**
 * The fleet API under /api/v1. Built apart from the app so that the public
 * agent function, which serves none of it, does not load it. Which methods
 * each path answers (the Allow header of a 405) follows from the routes
 * registered here.
 */
export function fleetApiRoutes(services: FleetApiServices, options: FleetApiOptions = {}): RouteGroup {
  const router = new Hono();
  const body: JsonBodyOptions = { maxBytes: options.maxJsonBytes };
  const { queries, admin, actions, tokens, rejectedKeys, certificateHolders, rollouts, audit } = services;
  // First, so that it sees every mutating request's answer, whichever route gave it.
  if (audit) router.use('*', auditMutations({ ...audit, routes: FLEET_API_ROUTES }));
  // Built on first request: the schema conversion is needed only by whoever reads the description.
  let description: Promise<unknown> | undefined;
  router.get('/openapi.json', async (c) => c.json(await (description ??= import('./openapi.js').then((m) => m.openApiDocument()))));
  if (queries) router.route('/agents', agentsApi(queries));
  if (actions) router.route('/', agentActionsApi(actions, body));
  // Before the fleet routes: its DELETE guard runs ahead of the removal itself.
  if (certificateHolders) router.route('/certificates', certificateHoldersApi(certificateHolders));
  if (admin) {
    router.route('/configs', configsApi(admin, body));
    if (admin.keepsHistory) router.route('/configs', configVersionsApi(admin));
    router.route('/assignments', assignmentsApi(admin, body));
    router.route('/packages', packagesApi(admin, body));
    router.route('/settings', settingsApi(admin, body));
    router.route('/certificates', certificatesApi(admin, body));
  }
  if (tokens) router.route('/tokens', tokensApi(tokens, body));
  if (rollouts) router.route('/rollouts', rolloutsApi(rollouts.engine, rollouts));
  if (rejectedKeys) router.route('/bucket', bucketApi(rejectedKeys));
  if (audit) router.route('/audit', auditApi(audit.log, audit.now));
  return { basePath: '/api/v1', router };
}
