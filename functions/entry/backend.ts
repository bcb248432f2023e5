import type { Hono } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import type { AwsClients } from '../adapters/aws-clients.js';
import { DynamoAgentStore } from '../adapters/dynamodb/agent-store.js';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store.js';
import { S3BlobStore } from '../adapters/s3/blob-store.js';
import { S3ObjectStore } from '../adapters/s3/object-store.js';
import { S3UrlSigner } from '../adapters/s3/url-signer.js';
import type { BackendConfig } from '../config.js';
import { createApp } from '../http/app.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentStore } from '../ports/agent-store.js';
import { AgentQueries } from '../service/agent-queries.js';
import { BucketIngest } from '../service/bucket-ingest.js';
import { ConfigBodyCache } from '../service/config-bodies.js';
import { FleetAdmin } from '../service/fleet-admin.js';
import { FleetStateCache } from '../service/fleet-cache.js';
import { PollService } from '../service/poll-service.js';
import { AgentActions } from '../service/agent-actions.js';
import { AgentAuthenticator, TokenAdmin } from '../service/agent-tokens.js';
import { DynamoTokenStore } from '../adapters/dynamodb/token-store.js';

export interface BackendOptions {
  config: BackendConfig;
  clients: AwsClients;
  telemetry: Telemetry;
  /** Which route groups this deployment serves. */
  routes: { opamp: boolean; api: boolean };
  now?: () => number;
  newInstanceUid?: () => string;
}

export interface Backend {
  app: Hono;
  agents: AgentStore;
  ingest: BucketIngest;
  configBodies: ConfigBodyCache;
}

/** Wires stores, services and the app for one deployment; entries only call this. */
export function createBackend(options: BackendOptions): Backend {
  const { config, clients, telemetry } = options;
  const now = options.now ?? Date.now;
  const objects = new S3ObjectStore(clients.s3, config.bucketName);
  const agents = new DynamoAgentStore({ client: clients.dynamodb, tableName: config.tableName, blobs: new S3BlobStore(clients.s3, config.bucketName) });
  const fleetStore = new DynamoFleetStore(clients.dynamodb, config.tableName);
  const fleet = new FleetStateCache(fleetStore, now, config.fleetRevalidateMs, telemetry);
  const configBodies = new ConfigBodyCache(objects, config.configCacheBytes);
  const signer = new S3UrlSigner(clients.s3, config.bucketName);
  const polls = options.routes.opamp
    ? new PollService({
        agents,
        now,
        newInstanceUid: options.newInstanceUid ?? (() => uuidv7()),
        options: config.core,
        fleet,
        configBodies,
        urlSigner: signer,
      })
    : undefined;
  const api = options.routes.api;
  const queries = api ? new AgentQueries(agents, now, config.liveness, { fleet, policy: config.core.remoteConfig }) : undefined;
  const admin = api ? new FleetAdmin({ objects, fleet: fleetStore, agents, now, remoteConfig: config.core.remoteConfig, uploads: signer }) : undefined;
  const actions = api ? new AgentActions({ agents, now, ttlMs: config.commandTtlMs }) : undefined;
  const ingest = new BucketIngest({ objects, fleet: fleetStore, now, telemetry, maxConfigFileBytes: config.maxConfigFileBytes });
  const tokenStore = new DynamoTokenStore(clients.dynamodb, config.tableName);
  const agentAuth = polls && config.agentAuth === 'token'
    ? new AgentAuthenticator(tokenStore, now, config.fleetRevalidateMs, telemetry)
    : undefined;
  const tokens = api ? new TokenAdmin(tokenStore, now) : undefined;
  const app = createApp({ agents, polls, queries, admin, actions, tokens, agentAuth, limits: config.limits, telemetry });
  return { app, agents, ingest, configBodies };
}
