import { Hono } from 'hono';
import type { AgentActions } from '../service/agent-actions.js';
import type { AgentQueries } from '../service/agent-queries.js';
import type { TokenAdmin } from '../service/agent-tokens.js';
import type { FleetAdmin } from '../service/fleet-admin.js';
import { agentActionsApi } from './routes/agent-actions-api.js';
import { agentsApi } from './routes/agents-api.js';
import { fleetApi } from './routes/fleet-api.js';
import { tokensApi } from './routes/tokens-api.js';
import { certificateHoldersApi } from './routes/certificate-expiry-api.js';
import type { CertificateHoldersDeps } from './routes/certificate-expiry-api.js';

/** A group of routes to mount, with the methods each path answers (for 405 replies). */
export interface RouteGroup {
  basePath: string;
  router: Hono;
  methods: ReadonlyArray<readonly [path: string, allow: string]>;
}

export interface FleetApiServices {
  queries?: AgentQueries | undefined;
  admin?: FleetAdmin | undefined;
  actions?: AgentActions | undefined;
  tokens?: TokenAdmin | undefined;
  /** Certificates as agents hold them (expiry, holders, the removal guard). */
  certificateHolders?: CertificateHoldersDeps | undefined;
}

/**
 * The fleet API under /api/v1. Built apart from the app so that the public
 * agent function, which serves none of it, does not load it.
 */
export function fleetApiRoutes(services: FleetApiServices): RouteGroup {
  const router = new Hono();
  const methods: Array<readonly [string, string]> = [];
  if (services.queries) {
    router.route('/agents', agentsApi(services.queries));
    methods.push(['/agents', 'GET'], ['/agents/:instanceUid', 'GET']);
  }
  if (services.certificateHolders) {
    // Before the fleet routes: its DELETE guard runs ahead of the removal itself.
    router.route('/certificates', certificateHoldersApi(services.certificateHolders));
    methods.push(['/certificates/expiring', 'GET'], ['/certificates/:name/agents', 'GET']);
  }
  if (services.admin) {
    router.route('/', fleetApi(services.admin));
    methods.push(
      ['/configs', 'GET'],
      ['/configs/:name', 'GET, PUT, DELETE'],
      ['/configs/:name/rollout', 'GET'],
      ['/assignments', 'GET'],
      ['/assignments/:name', 'GET, PUT, DELETE'],
      ['/packages', 'GET'],
      ['/packages/:name/:version', 'DELETE'],
      ['/packages/:name/:version/upload', 'POST'],
      ['/packages/:name/:version/rollout', 'GET'],
      ['/settings', 'GET'],
      ['/settings/:name', 'GET, PUT, DELETE'],
      ['/certificates', 'GET'],
      ['/certificates/:name', 'PUT, DELETE'],
    );
  }
  if (services.actions) {
    router.route('/', agentActionsApi(services.actions));
    methods.push(['/agents/:instanceUid/restart', 'POST'], ['/agents/:instanceUid/messages', 'GET, POST'], ['/restarts', 'POST']);
  }
  if (services.tokens) {
    router.route('/tokens', tokensApi(services.tokens));
    methods.push(['/tokens', 'GET, POST'], ['/tokens/:name', 'DELETE'], ['/tokens/:name/agents', 'GET']);
  }
  return { basePath: '/api/v1', router, methods };
}
