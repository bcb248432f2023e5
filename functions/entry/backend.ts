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
  const api = createFleetApiRoutes(wiring);
  const endpoint = createAgentEndpoint({ ...wiring, extraRoutes: [api], ...(options.newInstanceUid ? { newInstanceUid: options.newInstanceUid } : {}) });
  return { app: endpoint.app, agents: stores.agents, ingest: createBucketIngest(wiring, 'local'), configBodies: endpoint.configBodies, presence: endpoint.presence };
}
