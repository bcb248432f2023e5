import { z } from 'zod';
import type { CoreOptions } from './core/decide-poll.js';
import { DEFAULT_CORE_OPTIONS } from './core/decide-poll.js';
import type { LivenessPolicy } from './core/liveness.js';
import type { HttpLimits } from './http/app.js';
import { DEFAULT_HTTP_LIMITS } from './http/app.js';

const seconds = (fallbackMs: number) => z.coerce.number().positive().default(fallbackMs / 1000);

/** Every setting the backend reads from the environment, with its default. */
const environment = z.object({
  OPAMP_TABLE: z.string().min(3).default('opamp-local'),
  OPAMP_BUCKET: z.string().min(3).default('opamp-local'),
  OPAMP_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_HTTP_LIMITS.maxRequestBytes),
  OPAMP_GZIP_MIN_BYTES: z.coerce.number().int().min(0).default(DEFAULT_HTTP_LIMITS.gzipMinBytes),
  OPAMP_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_HTTP_LIMITS.retryAfterSeconds),
  OPAMP_LAST_SEEN_REFRESH_SECONDS: seconds(DEFAULT_CORE_OPTIONS.lastSeenRefreshMs),
  OPAMP_MIN_POLL_INTERVAL_SECONDS: seconds(DEFAULT_CORE_OPTIONS.minPollIntervalMs),
  OPAMP_EXPECTED_POLL_INTERVAL_SECONDS: z.coerce.number().positive().default(30),
  OPAMP_FULL_STATE_RETRY_SECONDS: seconds(DEFAULT_CORE_OPTIONS.fullStateRetryMs),
  OPAMP_RECORD_RETENTION_DAYS: z.coerce.number().positive().default(DEFAULT_CORE_OPTIONS.recordRetentionMs / 86_400_000),
  OPAMP_FLEET_REVALIDATE_SECONDS: z.coerce.number().min(0).default(10),
  OPAMP_MAX_CONFIG_FILE_BYTES: z.coerce.number().int().min(1).default(1024 * 1024),
  OPAMP_CONFIG_CACHE_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  OPAMP_CONFIG_RESEND_SECONDS: seconds(DEFAULT_CORE_OPTIONS.remoteConfig.resendAfterMs),
  OPAMP_CONFIG_MAX_OFFERS: z.coerce.number().int().min(1).default(DEFAULT_CORE_OPTIONS.remoteConfig.maxAttempts),
  OPAMP_AGENT_AUTH: z.enum(['none', 'token']).optional(),
  OPAMP_PACKAGE_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(DEFAULT_CORE_OPTIONS.packages.urlTtlSeconds),
  OPAMP_SERVER_CUSTOM_CAPABILITIES: z.string().default(''),
  OPAMP_DUPLICATE_WINDOW_SECONDS: z.coerce.number().min(0).default(DEFAULT_CORE_OPTIONS.duplicateWindowMs / 1000),
  OPAMP_COMMAND_TTL_SECONDS: z.coerce.number().positive().default(3600),
});

export interface BackendConfig {
  tableName: string;
  bucketName: string;
  limits: HttpLimits;
  core: CoreOptions;
  liveness: LivenessPolicy;
  /** How often a function instance checks whether the fleet's configurations changed. */
  fleetRevalidateMs: number;
  maxConfigFileBytes: number;
  configCacheBytes: number;
  /** `token`: agents must send a valid bearer token. */
  agentAuth: 'none' | 'token';
  /** How long a queued restart or custom message waits for the agent to poll. */
  commandTtlMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the settings from the environment. `defaults.agentAuth` is the
 * deployment's own default (Lambda: token, local: none); OPAMP_AGENT_AUTH
 * overrides it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: { agentAuth: 'none' | 'token' } = { agentAuth: 'none' }): BackendConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  const e = parsed.data;
  const core: CoreOptions = {
    ...DEFAULT_CORE_OPTIONS,
    lastSeenRefreshMs: e.OPAMP_LAST_SEEN_REFRESH_SECONDS * 1000,
    minPollIntervalMs: e.OPAMP_MIN_POLL_INTERVAL_SECONDS * 1000,
    fullStateRetryMs: e.OPAMP_FULL_STATE_RETRY_SECONDS * 1000,
    recordRetentionMs: e.OPAMP_RECORD_RETENTION_DAYS * 86_400_000,
    remoteConfig: { resendAfterMs: e.OPAMP_CONFIG_RESEND_SECONDS * 1000, maxAttempts: e.OPAMP_CONFIG_MAX_OFFERS },
    packages: { ...DEFAULT_CORE_OPTIONS.packages, urlTtlSeconds: e.OPAMP_PACKAGE_URL_TTL_SECONDS },
    serverCustomCapabilities: e.OPAMP_SERVER_CUSTOM_CAPABILITIES.split(',').map((c) => c.trim()).filter(Boolean),
    duplicateWindowMs: e.OPAMP_DUPLICATE_WINDOW_SECONDS * 1000,
  };
  return {
    tableName: e.OPAMP_TABLE,
    bucketName: e.OPAMP_BUCKET,
    limits: {
      maxRequestBytes: e.OPAMP_MAX_REQUEST_BYTES,
      gzipMinBytes: e.OPAMP_GZIP_MIN_BYTES,
      retryAfterSeconds: e.OPAMP_RETRY_AFTER_SECONDS,
    },
    core,
    liveness: {
      lastSeenRefreshMs: core.lastSeenRefreshMs,
      expectedPollIntervalMs: e.OPAMP_EXPECTED_POLL_INTERVAL_SECONDS * 1000,
      missedPollsBeforeStale: 3,
    },
    fleetRevalidateMs: e.OPAMP_FLEET_REVALIDATE_SECONDS * 1000,
    maxConfigFileBytes: e.OPAMP_MAX_CONFIG_FILE_BYTES,
    configCacheBytes: e.OPAMP_CONFIG_CACHE_BYTES,
    agentAuth: e.OPAMP_AGENT_AUTH ?? defaults.agentAuth,
    commandTtlMs: e.OPAMP_COMMAND_TTL_SECONDS * 1000,
  };
}
