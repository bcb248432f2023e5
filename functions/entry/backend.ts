import type { Hono } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import type { AwsClients } from '../adapters/aws-clients.js';
import { DynamoAgentStore } from '../adapters/dynamodb/agent-store.js';
import { S3BlobStore } from '../adapters/s3/blob-store.js';
import type { BackendConfig } from '../config.js';
import { createApp } from '../http/app.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentStore } from '../ports/agent-store.js';
import { AgentQueries } from '../service/agent-queries.js';
import { PollService } from '../service/poll-service.js';

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
}

/** Wires stores, services and the app for one deployment; entries only call this. */
export function createBackend(options: BackendOptions): Backend {
  const { config, clients, telemetry } = options;
  const now = options.now ?? Date.now;
  const blobs = new S3BlobStore(clients.s3, config.bucketName);
  const agents = new DynamoAgentStore({ client: clients.dynamodb, tableName: config.tableName, blobs });
  const polls = options.routes.opamp
    ? new PollService({ agents, now, newInstanceUid: options.newInstanceUid ?? (() => uuidv7()), options: config.core })
    : undefined;
  const queries = options.routes.api ? new AgentQueries(agents, now, config.liveness) : undefined;
  const app = createApp({ agents, polls, queries, limits: config.limits, telemetry });
  return { app, agents };
}
