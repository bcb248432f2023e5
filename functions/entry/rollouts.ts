import type { PresenceView } from '../core/presence.js';
import { historicConfig } from '../service/config-history.js';
import { RolloutEngine } from '../service/rollouts/rollout-engine.js';
import { createAuditTrail } from './stores.js';
import type { WiringOptions } from './stores.js';

/** The rollout engine over the deployment's stores. */
export function createRolloutEngine(options: WiringOptions, presence?: { view(): Promise<PresenceView> }): RolloutEngine {
  const { config, stores, telemetry } = options;
  return new RolloutEngine({
    fleet: stores.fleet,
    agents: stores.agents,
    presence,
    liveness: config.liveness,
    remoteConfig: config.core.remoteConfig,
    now: options.now ?? Date.now,
    telemetry,
    audit: createAuditTrail(options),
    // Versions are served from their copies kept by content hash: a rollback works whatever the bucket holds now.
    keptConfig: (name, hash) => historicConfig(stores.configHistory, name, hash),
  });
}
