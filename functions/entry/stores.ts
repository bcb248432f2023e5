import type { StoreClients } from '../adapters/s3/s3-source.js';
import { DynamoAgentStore } from '../adapters/dynamodb/agent-store.js';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log.js';
import { DynamoConfigHistoryStore } from '../adapters/dynamodb/config-history-store.js';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store.js';
import { DynamoPresenceStore } from '../adapters/dynamodb/presence-store.js';
import { DynamoRejectedKeyLog } from '../adapters/dynamodb/rejected-keys.js';
import { DynamoTokenStore } from '../adapters/dynamodb/token-store.js';
import { S3BlobStore } from '../adapters/s3/blob-store.js';
import { S3ObjectStore } from '../adapters/s3/object-store.js';
import { S3UrlSigner } from '../adapters/s3/url-signer.js';
import { clientSettings } from '../adapters/client-settings.js';
import { SecretsManagerReader } from '../adapters/secrets-manager/secret-reader.js';
import type { BackendConfig } from '../config.js';
import type { Telemetry } from '../observability/telemetry.js';
import { AuditTrail } from '../service/audit-trail.js';

/** The storage adapters every deployment builds from its clients (`now`: the clock of the audit log's listings). */
export function createStores(config: BackendConfig, clients: StoreClients, now: () => number = Date.now) {
  return {
    agents: new DynamoAgentStore({ client: clients.dynamodb, tableName: config.tableName, blobs: new S3BlobStore(clients.s3, config.stateBucketName) }),
    fleet: new DynamoFleetStore(clients.dynamodb, config.tableName),
    tokens: new DynamoTokenStore(clients.dynamodb, config.tableName),
    presence: new DynamoPresenceStore(clients.dynamodb, config.tableName),
    rejectedKeys: new DynamoRejectedKeyLog(clients.dynamodb, config.tableName),
    audit: new DynamoAuditLog({ client: clients.dynamodb, tableName: config.tableName, retentionDays: config.auditRetentionDays, now }),
    objects: new S3ObjectStore(clients.s3, config.bucketName),
    /** The server's state bucket as an object store: configuration history copies (config-history/). */
    stateObjects: new S3ObjectStore(clients.s3, config.stateBucketName),
    configHistory: new DynamoConfigHistoryStore(clients.dynamodb, config.tableName),
    signer: new S3UrlSigner(clients.s3, config.bucketName),
    // Only read when settings or the CSR CA name a secret; the SDK module is loaded then.
    secrets: new SecretsManagerReader(
      clientSettings({ secretsManagerEndpoint: config.secretsManagerEndpoint, emulated: config.secretsManagerEndpoint !== undefined, timeouts: config.storeTimeouts }).secretsManager,
    ),
  };
}

export type Stores = ReturnType<typeof createStores>;

export interface WiringOptions {
  config: BackendConfig;
  stores: Stores;
  telemetry: Telemetry;
  now?: (() => number) | undefined;
  /** Reads a local file (undefined when missing): the local backend's `file:` certificates. */
  readLocalFile?: ((path: string) => Promise<string | undefined>) | undefined;
  /** The local backend's environment: `env` secret references in settings. */
  localEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Who made a change when nothing names a caller: the local backend's API
   * requests, bucket events and reconciles (`local`). Unset in AWS, where the
   * Function URL's IAM principal and the S3 events' principals are recorded.
   */
  principal?: string | undefined;
}

/**
 * The audit log as its writers hold it: the fleet API, the bucket ingest and
 * a rollout engine (`auditLog.record({ source: 'rollout', principal: 'rollout-engine', action: 'rollout.advance', ... })`).
 * Recording never throws; see AuditTrail.
 */
export function createAuditTrail(options: Pick<WiringOptions, 'stores' | 'telemetry'>): AuditTrail {
  return new AuditTrail(options.stores.audit, options.telemetry);
}
