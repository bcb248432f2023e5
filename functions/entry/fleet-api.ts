import type { Context } from 'hono';
import { createApp } from '../http/app.js';
import { fleetApiRoutes } from '../http/fleet-api-routes.js';
import { AgentActions } from '../service/agent-actions.js';
import { AgentQueries } from '../service/agent-queries.js';
import { TokenAdmin } from '../service/agent-tokens.js';
import { FleetAdmin } from '../service/fleet-admin.js';
import { FleetStateCache } from '../service/fleet-cache.js';
import { PresenceReader } from '../service/presence-reader.js';
import type { RolloutEngine } from '../service/rollouts/rollout-engine.js';
import { createRolloutEngine } from './rollouts.js';
import { UNKNOWN_PRINCIPAL } from '../core/audit.js';
import { requestPrincipal } from '../http/principal.js';
import { createAuditTrail } from './stores.js';
import type { WiringOptions } from './stores.js';

/** The fleet API route group and its services. */
export function createFleetApiRoutes(options: WiringOptions, engine?: RolloutEngine) {
  const { config, stores, telemetry } = options;
  const now = options.now ?? Date.now;
  const fleet = new FleetStateCache(stores.fleet, now, config.fleetRevalidateMs, telemetry);
  const presence = new PresenceReader({ store: stores.presence, now, ...config.presence });
  const rollouts = engine ?? createRolloutEngine(options, presence);
  const principal = (c: Context) => requestPrincipal(c, options.principal ?? UNKNOWN_PRINCIPAL);
  return fleetApiRoutes({
    queries: new AgentQueries(stores.agents, now, config.liveness, { fleet, policy: config.core.remoteConfig }, presence),
    admin: new FleetAdmin({
      objects: stores.objects,
      fleet: stores.fleet,
      agents: stores.agents,
      now,
      remoteConfig: config.core.remoteConfig,
      uploads: stores.signer,
      maxConfigFileBytes: config.maxConfigFileBytes,
      history: { store: stores.configHistory, state: stores.stateObjects },
    }),
    actions: new AgentActions({ agents: stores.agents, now, ttlMs: config.commandTtlMs }),
    certificateHolders: { agents: stores.agents, now, warningMs: config.certificateExpiryWarningMs, liveness: config.liveness, presence },
    tokens: new TokenAdmin(stores.tokens, now, { agents: stores.agents, fleet, liveness: { policy: config.liveness, now, presence } }),
    rejectedKeys: stores.rejectedKeys,
    rollouts: { engine: rollouts, principal },
    audit: { log: createAuditTrail(options), now, principal },
  });
}

/** The fleet API function's app: /api/v1/* and GET /healthz. */
export function createFleetApi(options: WiringOptions) {
  const routes = createFleetApiRoutes(options);
  return { app: createApp({ agents: options.stores.agents, routes: [routes], limits: options.config.limits, deadlines: options.config.deadlines, telemetry: options.telemetry }) };
}
