import type { Hono } from 'hono';
import type { AwsClients } from '../adapters/aws-clients.js';
import type { BackendConfig } from '../config.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { BucketIngest } from '../service/bucket-ingest.js';
import type { ConfigBodyCache } from '../service/config-bodies.js';
import type { PresenceBatcher } from '../service/presence-batcher.js';
import { createAgentEndpoint } from './agent-endpoint.js';
import { createBucketIngest } from './bucket-ingest.js';
import { createFleetApiRoutes } from './fleet-api.js';
import { createRolloutEngine } from './rollouts.js';
import type { RolloutEngine } from '../service/rollouts/rollout-engine.js';
import { PresenceReader } from '../service/presence-reader.js';
import { LOCAL_PRINCIPAL } from '../core/audit.js';
import { createStores } from './stores.js';

export interface BackendOptions {
  config: BackendConfig;
  clients: AwsClients;
  telemetry: Telemetry;
  now?: () => number;
  newInstanceUid?: () => string;
  readLocalFile?: (path: string) => Promise<string | undefined>;
  localEnv?: Readonly<Record<string, string | undefined>>;
}

export interface Backend {
  app: Hono;
  agents: AgentStore;
  ingest: BucketIngest;
  configBodies: ConfigBodyCache;
  /** This process's presence batch: written when due, and on shutdown. */
  presence: PresenceBatcher;
  /** Starts and moves staged rollouts (the local backend runs it on a timer, as the scheduled function does in AWS). */
  rollouts: RolloutEngine;
}

/** Everything in one app, as the local backend serves it: agent endpoint, fleet API and bucket ingest. */
export function createBackend(options: BackendOptions): Backend {
  const stores = createStores(options.config, options.clients, options.now);
  // Nobody signs requests to the local backend, and its bucket events name no one: changes are made by `local`.
  const wiring = {
    config: options.config,
    stores,
    telemetry: options.telemetry,
    now: options.now,
    readLocalFile: options.readLocalFile,
    localEnv: options.localEnv,
    principal: LOCAL_PRINCIPAL,
  };
  const now = options.now ?? Date.now;
  const rollouts = createRolloutEngine(wiring, new PresenceReader({ store: stores.presence, now, ...options.config.presence }));
  const api = createFleetApiRoutes(wiring, rollouts);
  const endpoint = createAgentEndpoint({ ...wiring, extraRoutes: [api], ...(options.newInstanceUid ? { newInstanceUid: options.newInstanceUid } : {}) });
  return { app: endpoint.app, agents: stores.agents, ingest: createBucketIngest(wiring, 'local'), configBodies: endpoint.configBodies, presence: endpoint.presence, rollouts };
}
