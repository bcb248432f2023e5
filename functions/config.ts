import type { CoreOptions } from './core/core-options.js';
import { DEFAULT_CORE_OPTIONS } from './core/core-options.js';
import type { LivenessPolicy } from './core/liveness.js';
import type { StoreTimeouts } from './adapters/client-settings.js';
import { DEFAULT_STORE_TIMEOUTS } from './adapters/client-settings.js';
import type { HttpLimits, RequestDeadlines } from './http/app.js';
import { DEFAULT_DEADLINES, DEFAULT_HTTP_LIMITS } from './http/app.js';
import { DAY_MS, DEFAULT_EXPIRY_WARNING_MS, DEFAULT_RENEW_AT_FRACTION } from './core/certificate-expiry.js';
import type { SettingTable } from './settings.js';
import { certificateRef, choice, flag, httpUrl, list, number, optional, readSettings, setting, text } from './settings.js';

export interface BackendConfig {
  tableName: string;
  /** The operator's bucket: configurations, assignments, packages, settings, certificates. */
  bucketName: string;
  /**
   * The server's own objects (status sections too large for a table item). A
   * separate bucket, so that nothing an operator does to their bucket (a sync
   * with --delete, say) can reach them.
   */
  stateBucketName: string;
  limits: HttpLimits;
  core: CoreOptions;
  liveness: LivenessPolicy;
  presence: PresenceConfig;
  /** How often a function instance checks whether the fleet's configurations changed. */
  fleetRevalidateMs: number;
  maxConfigFileBytes: number;
  configCacheBytes: number;
  /** `token`: agents must send a valid bearer token. */
  agentAuth: 'none' | 'token';
  /** How long a queued restart or custom message waits for the agent to poll. */
  commandTtlMs: number;
  /** How long audit entries are kept (the table's TTL deletes them later). */
  auditRetentionDays: number;
  /** The agent endpoint as agents reach it (destination_endpoint); else the URL each poll came in on. */
  publicUrl?: string | undefined;
  /** Signing agents' CSRs: where the CA is kept (a certificate reference), and the certificates' terms. */
  csr?: { caRef: string; validityMs: number; requireInstanceUid: boolean; renewAtFraction: number } | undefined;
  /** How long before expiry a certificate agents hold is reported (metric, listings). */
  certificateExpiryWarningMs: number;
  /** How long certificate material from Secrets Manager or a file is used before it is read again. */
  certificateRefreshMs: number;
  /** Secrets Manager endpoint override (tests, LocalStack). */
  secretsManagerEndpoint?: string | undefined;
  /** How long each kind of request may wait for its stores, retries included, before it is answered 503. */
  deadlines: RequestDeadlines;
  /** Limits of each attempt of a store call. */
  storeTimeouts: StoreTimeouts;
  /** Secrets that settings documents name live under this name prefix (the only ones the agent function may read). */
  secretPrefix: string;
  /** How long a secret's value is used before it is read again. */
  secretRefreshMs: number;
}

/**
 * The longest deadlines accepted: under the agent function's 10 s and the
 * fleet API function's 30 s timeouts (cdk/lib/opamp-stack.ts), so that a
 * request that outlasts its stores is answered 503 rather than cut off.
 */
export const MAX_DEADLINE_SECONDS = { poll: 8, health: 8, api: 25 } as const;
/** Presence batches: how the agent function writes them and the fleet API reads them. */
export interface PresenceConfig {
  windowMs: number;
  /** An entry waits at most this long for its batch (agents at long intervals wait up to their interval). */
  maxHoldMs: number;
  /** How far back the fleet API reads batches. */
  lookbackMs: number;
  cacheMs: number;
  retentionSeconds: number;
  maxEntriesPerItem: number;
  maxBufferedEntries: number;
  /** Messages closer together than this (the shortest poll interval) are a burst, not a poll interval. */
  minIntervalSeconds: number;
}

/** Polls an agent may miss before it counts as stale. */
const MISSED_POLLS_BEFORE_STALE = 3;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

// The settings, by topic. To add one: declare it in its topic's table (name,
// parser, default, description), use `s.<key>` in loadConfig, and run
// `npm run docs` to rewrite docs/reference/configuration.md. A default that
// depends on another setting is `optional(...)` with a `defaultText`, filled
// in loadConfig; a check across settings pushes onto `problems` there.
const d = DEFAULT_CORE_OPTIONS;
const positive = number({ above: 0 });

const STORES = {
  table: setting('OPAMP_TABLE', text({ minLength: 3 }), 'opamp-local', 'the DynamoDB table (set by the stack in AWS)'),
  bucket: setting('OPAMP_BUCKET', text({ minLength: 3 }), 'opamp-local', "the operator's S3 bucket: configurations, assignments, packages, settings, certificates (set by the stack in AWS)"),
  stateBucket: optional<string>(
    'OPAMP_STATE_BUCKET',
    text({ minLength: 3 }),
    "the server's own S3 bucket (status sections too large for a table item), apart from the operator's; default `<OPAMP_BUCKET>-state` (set by the stack in AWS)",
  ),
  agentAuth: {
    ...optional<'none' | 'token'>('OPAMP_AGENT_AUTH', choice(['none', 'token'] as const), '`token`: agents must send a valid bearer token; `none`: no authentication'),
    defaultText: '`token` in the Lambda agent function, `none` elsewhere',
  },
  secretsManagerEndpoint: optional<string>('OPAMP_SECRETS_MANAGER_ENDPOINT', httpUrl(), 'Secrets Manager endpoint override for an emulator or LocalStack (uses dummy credentials)'),
};

const HTTP_EDGE = {
  maxRequestBytes: setting('OPAMP_MAX_REQUEST_BYTES', number({ integer: true, min: 1024 }), DEFAULT_HTTP_LIMITS.maxRequestBytes, 'largest accepted request body, after decompression'),
  gzipMinBytes: setting('OPAMP_GZIP_MIN_BYTES', number({ integer: true, min: 0 }), DEFAULT_HTTP_LIMITS.gzipMinBytes, 'smallest reply that is gzipped'),
  retryAfterSeconds: setting('OPAMP_RETRY_AFTER_SECONDS', number({ integer: true, min: 1 }), DEFAULT_HTTP_LIMITS.retryAfterSeconds, '`Retry-After` sent with a `503`'),
};

const DEADLINES = {
  pollDeadlineSeconds: setting(
    'OPAMP_POLL_DEADLINE_SECONDS',
    number({ min: 0.05, max: MAX_DEADLINE_SECONDS.poll }),
    DEFAULT_DEADLINES.pollMs / 1000,
    'how long a poll may wait for its stores, retries included, before it is answered `503` with `Retry-After`',
  ),
  healthDeadlineSeconds: setting(
    'OPAMP_HEALTH_DEADLINE_SECONDS',
    number({ min: 0.05, max: MAX_DEADLINE_SECONDS.health }),
    DEFAULT_DEADLINES.healthMs / 1000,
    'how long `/healthz` waits for the store before it answers `503`',
  ),
  apiDeadlineSeconds: setting(
    'OPAMP_API_DEADLINE_SECONDS',
    number({ min: 0.05, max: MAX_DEADLINE_SECONDS.api }),
    DEFAULT_DEADLINES.apiMs / 1000,
    'how long a fleet API request may wait for its stores before it is answered `503`',
  ),
  storeConnectTimeoutSeconds: setting(
    'OPAMP_STORE_CONNECT_TIMEOUT_SECONDS',
    number({ min: 0.01, max: 60 }),
    DEFAULT_STORE_TIMEOUTS.connectMs / 1000,
    'limit on opening a connection to DynamoDB, S3 or Secrets Manager, per attempt',
  ),
  storeRequestTimeoutSeconds: setting(
    'OPAMP_STORE_REQUEST_TIMEOUT_SECONDS',
    number({ min: 0.01, max: 60 }),
    DEFAULT_STORE_TIMEOUTS.requestMs / 1000,
    'limit on one store request (the answer, and each pause while it arrives), per attempt; attempts are retried within the deadline',
  ),
};

const POLLS = {
  lastSeenRefreshSeconds: setting(
    'OPAMP_LAST_SEEN_REFRESH_SECONDS',
    positive,
    d.lastSeenRefreshMs / 1000,
    "how often a heartbeat that changes nothing rewrites the agent's item, to keep its retention alive (liveness comes from presence batches)",
  ),
  presenceWindowSeconds: setting(
    'OPAMP_PRESENCE_WINDOW_SECONDS',
    number({ integer: true, min: 5, max: 3600 }),
    60,
    'presence batch window: each function instance writes the agents it answered about once per window',
  ),
  presenceLookbackSeconds: {
    ...optional<number>('OPAMP_PRESENCE_LOOKBACK_SECONDS', number({ integer: true, min: 60, max: 86_400 }), 'how far back the fleet API reads presence batches'),
    defaultText: '(missed polls + 1) x the longest of the expected and steered intervals, plus one window (300 s with the defaults; 1,260 s with a 300 s idle interval)',
  },
  presenceCacheSeconds: setting('OPAMP_PRESENCE_CACHE_SECONDS', number({ min: 0, max: 3600 }), 15, 'how long the fleet API reuses the presence it read'),
  minPollIntervalSeconds: setting(
    'OPAMP_MIN_POLL_INTERVAL_SECONDS',
    positive,
    d.minPollIntervalMs / 1000,
    "shortest poll interval assumed when telling heartbeats from lost messages, until an agent's own cadence is learned from its sequence numbers",
  ),
  expectedPollIntervalSeconds: setting('OPAMP_EXPECTED_POLL_INTERVAL_SECONDS', positive, 30, 'poll interval liveness is judged against for agents the server does not steer'),
  fullStateRetrySeconds: setting('OPAMP_FULL_STATE_RETRY_SECONDS', positive, d.fullStateRetryMs / 1000, 'least time between two full-state requests to one agent while the first is unanswered'),
  recordRetentionDays: setting('OPAMP_RECORD_RETENTION_DAYS', number({ min: 1 }), d.recordRetentionMs / 86_400_000, "how long a silent agent's record is kept"),
  duplicateWindowSeconds: setting('OPAMP_DUPLICATE_WINDOW_SECONDS', number({ min: 0 }), d.duplicateWindowMs / 1000, 'window for detecting two agents sharing one uid; `0` turns detection off'),
};

const FLEET = {
  fleetRevalidateSeconds: setting(
    'OPAMP_FLEET_REVALIDATE_SECONDS',
    number({ min: 0 }),
    10,
    'how often a function instance checks whether configurations, assignments, packages, settings, certificates or agent tokens changed (`0`: on every request)',
  ),
  maxConfigFileBytes: setting('OPAMP_MAX_CONFIG_FILE_BYTES', number({ integer: true, min: 1 }), 1024 * 1024, 'largest configuration file that is offered'),
  auditRetentionDays: setting(
    'OPAMP_AUDIT_RETENTION_DAYS',
    number({ integer: true, min: 1, max: 3650 }),
    90,
    'how long audit entries (changes to the fleet through the API, the bucket or rollouts) are kept, in days',
  ),
  configCacheBytes: setting('OPAMP_CONFIG_CACHE_BYTES', number({ integer: true, min: 0 }), 64 * 1024 * 1024, 'configuration bodies cached per function instance'),
  configResendSeconds: setting(
    'OPAMP_CONFIG_RESEND_SECONDS',
    positive,
    d.remoteConfig.resendAfterMs / 1000,
    'wait before offering again a configuration (or connection settings) the agent has not reported on',
  ),
  configMaxOffers: setting(
    'OPAMP_CONFIG_MAX_OFFERS',
    number({ integer: true, min: 1 }),
    d.remoteConfig.maxAttempts,
    'how many times one configuration (or settings hash) is offered to an agent that does not take it',
  ),
};

const PACKAGES_AND_COMMANDS = {
  packageUrlTtlSeconds: setting('OPAMP_PACKAGE_URL_TTL_SECONDS', number({ integer: true, min: 60, max: 7 * 86_400 }), d.packages.urlTtlSeconds, 'validity of presigned package download URLs'),
  commandTtlSeconds: setting('OPAMP_COMMAND_TTL_SECONDS', positive, 3600, 'how long a queued restart or custom message waits for the agent to poll'),
  serverCustomCapabilities: setting('OPAMP_SERVER_CUSTOM_CAPABILITIES', list(), d.serverCustomCapabilities, "the server's own custom capabilities, announced to every agent"),
};

const CONNECTION_SETTINGS = {
  heartbeatIdleSeconds: setting(
    'OPAMP_HEARTBEAT_IDLE_SECONDS',
    number({ integer: true, min: 0, max: 86_400 }),
    d.settings.heartbeat.idleSeconds,
    'poll interval asked of idle agents; `0`: do not steer',
  ),
  heartbeatPendingSeconds: setting(
    'OPAMP_HEARTBEAT_PENDING_SECONDS',
    number({ integer: true, min: 0, max: 86_400 }),
    d.settings.heartbeat.pendingSeconds,
    'poll interval while something is pending (never longer than the idle one); `0`: the idle interval throughout',
  ),
  publicUrl: optional<string>('OPAMP_PUBLIC_URL', httpUrl(), 'the agent endpoint as agents reach it (`/v1/opamp` included); offered as the OpAMP endpoint. Unset: the URL each poll came in on'),
  certificateRefreshSeconds: setting('OPAMP_CERTIFICATE_REFRESH_SECONDS', positive, 900, 'how long certificate material from Secrets Manager or a file is used before it is read again'),
  csrCa: optional<string>('OPAMP_CSR_CA', certificateRef(), "the CA that signs agents' CSRs (`bucket:<name>`, `secretsmanager:<id>` or `file:<dir>`); setting it turns the CSR flow on"),
  csrValidityDays: setting('OPAMP_CSR_VALIDITY_DAYS', number({ min: 1, max: 3650 }), 90, 'validity of issued certificates, in days'),
  csrRequireInstanceUid: setting('OPAMP_CSR_REQUIRE_INSTANCE_UID', flag(), false, '`true`: refuse CSRs that carry no instance uid at all'),
  csrRenewAt: setting(
    'OPAMP_CSR_RENEW_AT',
    number({ min: 0.1, max: 0.95 }),
    DEFAULT_RENEW_AT_FRACTION,
    "fraction of an issued certificate's lifetime after which the server signs a fresh one for the same key",
  ),
  certificateExpiryWarningDays: setting(
    'OPAMP_CERTIFICATE_EXPIRY_WARNING_DAYS',
    number({ min: 0 }),
    DEFAULT_EXPIRY_WARNING_MS / DAY_MS,
    'how long before expiry a certificate agents hold is listed as expiring and counted in the `CertificatesExpiringSoon` metric',
  ),
  secretPrefix: setting('OPAMP_SECRET_PREFIX', text(), 'opamp/', 'Secrets Manager names that settings documents may refer to start with this (set by the stack in AWS)'),
  secretRefreshSeconds: setting('OPAMP_SECRET_REFRESH_SECONDS', positive, 300, "how long a secret's value is used before it is read again"),
};

/** Every setting the functions read. */
export const BACKEND_SETTINGS = { ...STORES, ...HTTP_EDGE, ...DEADLINES, ...POLLS, ...FLEET, ...PACKAGES_AND_COMMANDS, ...CONNECTION_SETTINGS };

/** Settings of `npm start` alone. */
export const LOCAL_SETTINGS = {
  port: setting('OPAMP_PORT', number({ integer: true, min: 0, max: 65_535 }), 4320, 'local backend port'),
  host: setting('OPAMP_HOST', text(), '127.0.0.1', 'local backend address'),
  dataDir: setting('OPAMP_DATA_DIR', text(), '.data', 'where the embedded stores keep their data'),
  reconcileSeconds: setting('OPAMP_RECONCILE_SECONDS', number({ integer: true, min: 1, max: 86_400 }), 10, 'how often the local backend re-reads the bucket (for changes that send no event)'),
  rolloutEvaluateSeconds: setting(
    'OPAMP_ROLLOUT_EVALUATE_SECONDS',
    number({ integer: true, min: 1, max: 3600 }),
    10,
    'how often the local backend evaluates staged rollouts (in AWS a scheduled function does, every minute)',
  ),
  dynamodbEndpoint: optional<string>('AWS_ENDPOINT_URL_DYNAMODB', text(), 'use this DynamoDB endpoint instead of embedding an emulator, e.g. LocalStack'),
  s3Endpoint: optional<string>('AWS_ENDPOINT_URL_S3', text(), 'use this S3 endpoint instead of embedding an emulator, e.g. LocalStack'),
  s3Port: optional<number>(
    'OPAMP_S3_PORT',
    number({ integer: true, min: 1, max: 65_535 }),
    'port of the embedded S3 (default: any free port), so that saved `aws --endpoint-url` commands keep working after a restart',
  ),
};

/** The settings by topic, as the configuration reference lists them. */
export const SETTINGS_REFERENCE: readonly { title: string; settings: SettingTable }[] = [
  { title: 'Local backend (`npm start` only)', settings: LOCAL_SETTINGS },
  { title: 'Stores and authentication', settings: STORES },
  { title: 'HTTP edge', settings: HTTP_EDGE },
  { title: 'Deadlines and store timeouts', settings: DEADLINES },
  { title: 'Polls, state and liveness', settings: POLLS },
  { title: 'Fleet state and remote configuration', settings: FLEET },
  { title: 'Packages, commands and messages', settings: PACKAGES_AND_COMMANDS },
  { title: 'Connection settings and certificates', settings: CONNECTION_SETTINGS },
];

function throwIfAny(problems: readonly string[]): void {
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/**
 * Reads the settings from the environment. `defaults.agentAuth` is the
 * deployment's own default (Lambda: token, local: none); OPAMP_AGENT_AUTH
 * overrides it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: { agentAuth: 'none' | 'token' } = { agentAuth: 'none' }): BackendConfig {
  // Checks that involve several settings add to `problems` before the throw at the end.
  const { values: s, problems } = readSettings(env, BACKEND_SETTINGS);
  const remoteConfig = { resendAfterMs: s.configResendSeconds * 1000, maxAttempts: s.configMaxOffers };
  const core: CoreOptions = {
    ...d,
    features: { ...d.features, connectionSettingsRequests: s.csrCa !== undefined },
    lastSeenRefreshMs: s.lastSeenRefreshSeconds * 1000,
    minPollIntervalMs: s.minPollIntervalSeconds * 1000,
    fullStateRetryMs: s.fullStateRetrySeconds * 1000,
    recordRetentionMs: s.recordRetentionDays * 86_400_000,
    remoteConfig,
    packages: { ...d.packages, urlTtlSeconds: s.packageUrlTtlSeconds },
    // An unacknowledged settings offer is repeated on the same terms as a configuration.
    settings: { ...remoteConfig, heartbeat: { idleSeconds: s.heartbeatIdleSeconds, pendingSeconds: s.heartbeatPendingSeconds } },
    serverCustomCapabilities: s.serverCustomCapabilities,
    duplicateWindowMs: s.duplicateWindowSeconds * 1000,
  };
  const config: BackendConfig = {
    tableName: s.table,
    bucketName: s.bucket,
    stateBucketName: s.stateBucket ?? `${s.bucket}-state`,
    limits: { maxRequestBytes: s.maxRequestBytes, gzipMinBytes: s.gzipMinBytes, retryAfterSeconds: s.retryAfterSeconds },
    core,
    liveness: { presenceWindowMs: s.presenceWindowSeconds * 1000, expectedPollIntervalMs: s.expectedPollIntervalSeconds * 1000, missedPollsBeforeStale: MISSED_POLLS_BEFORE_STALE },
    presence: presenceConfig(s),
    fleetRevalidateMs: s.fleetRevalidateSeconds * 1000,
    maxConfigFileBytes: s.maxConfigFileBytes,
    configCacheBytes: s.configCacheBytes,
    agentAuth: s.agentAuth ?? defaults.agentAuth,
    commandTtlMs: s.commandTtlSeconds * 1000,
    auditRetentionDays: s.auditRetentionDays,
    publicUrl: s.publicUrl,
    ...(s.csrCa !== undefined ? { csr: { caRef: s.csrCa, validityMs: s.csrValidityDays * 86_400_000, requireInstanceUid: s.csrRequireInstanceUid, renewAtFraction: s.csrRenewAt } } : {}),
    certificateRefreshMs: s.certificateRefreshSeconds * 1000,
    certificateExpiryWarningMs: s.certificateExpiryWarningDays * DAY_MS,
    secretPrefix: s.secretPrefix,
    secretRefreshMs: s.secretRefreshSeconds * 1000,
    secretsManagerEndpoint: s.secretsManagerEndpoint,
    deadlines: { pollMs: s.pollDeadlineSeconds * 1000, healthMs: s.healthDeadlineSeconds * 1000, apiMs: s.apiDeadlineSeconds * 1000 },
    storeTimeouts: { connectMs: s.storeConnectTimeoutSeconds * 1000, requestMs: s.storeRequestTimeoutSeconds * 1000 },
  };
  if (config.stateBucketName === config.bucketName) problems.push('OPAMP_STATE_BUCKET: must name a bucket other than OPAMP_BUCKET');
  throwIfAny(problems);
  return config;
}

function presenceConfig(s: {
  presenceWindowSeconds: number;
  presenceLookbackSeconds: number | undefined;
  presenceCacheSeconds: number;
  expectedPollIntervalSeconds: number;
  heartbeatIdleSeconds: number;
  heartbeatPendingSeconds: number;
  minPollIntervalSeconds: number;
}): PresenceConfig {
  const windowMs = s.presenceWindowSeconds * 1000;
  const longestIntervalMs = Math.max(s.expectedPollIntervalSeconds, s.heartbeatIdleSeconds, s.heartbeatPendingSeconds) * 1000;
  const lookbackMs = s.presenceLookbackSeconds !== undefined ? s.presenceLookbackSeconds * 1000 : (MISSED_POLLS_BEFORE_STALE + 1) * longestIntervalMs + windowMs;
  return {
    windowMs,
    maxHoldMs: 5 * windowMs,
    lookbackMs,
    cacheMs: s.presenceCacheSeconds * 1000,
    // Readers look back `lookbackMs`; an hour more covers clocks and late reads.
    retentionSeconds: Math.ceil(lookbackMs / 1000) + 3600,
    // About 10 bytes an agent: a 200 KB item, half DynamoDB's limit.
    maxEntriesPerItem: 20_000,
    maxBufferedEntries: 100_000,
    minIntervalSeconds: s.minPollIntervalSeconds,
  };
}

export interface LocalSettings {
  port: number;
  host: string;
  dataDir: string;
  reconcileIntervalMs: number;
  rolloutIntervalMs: number;
  dynamodbEndpoint: string | undefined;
  s3Endpoint: string | undefined;
  s3Port: number | undefined;
}

/** Reads the settings of `npm start`. */
export function loadLocalSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const {
    values: { reconcileSeconds, rolloutEvaluateSeconds, ...rest },
    problems,
  } = readSettings(env, LOCAL_SETTINGS);
  throwIfAny(problems);
  return { ...rest, reconcileIntervalMs: reconcileSeconds * 1000, rolloutIntervalMs: rolloutEvaluateSeconds * 1000 };
}
