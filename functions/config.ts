import type { CoreOptions } from './core/core-options.js';
import { DEFAULT_CORE_OPTIONS } from './core/core-options.js';
import type { LivenessPolicy } from './core/liveness.js';
import type { HttpLimits } from './http/app.js';
import { isCertificateRef } from './core/certificate-ref.js';
import { DEFAULT_HTTP_LIMITS } from './http/app.js';

/**
 * Reads typed settings from the environment and collects every problem, so
 * that a misconfigured deployment says everything wrong at once. (Hand-written
 * rather than a schema library: the public agent function loads this module,
 * and every kilobyte there is paid at each cold start.)
 */
class SettingsReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  number(name: string, fallback: number, rule: { min?: number; max?: number; integer?: boolean } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    const bad = !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) ||
      (rule.min !== undefined && value < rule.min) || (rule.max !== undefined && value > rule.max);
    if (bad) {
      const range = [rule.min !== undefined && `>= ${rule.min}`, rule.max !== undefined && `<= ${rule.max}`].filter(Boolean).join(' and ');
      this.problems.push(`${name}: expected ${rule.integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** A positive number of seconds, as milliseconds. */
  seconds(name: string, fallbackMs: number, min = Number.MIN_VALUE): number {
    return this.number(name, fallbackMs / 1000, { min }) * 1000;
  }

  string(name: string, fallback: string, minLength = 0): string {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    if (raw.length < minLength) this.problems.push(`${name}: expected at least ${minLength} characters`);
    return raw;
  }

  /** An http(s) URL, or undefined when unset. */
  url(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      const url = new URL(raw.trim());
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
    } catch {
      // reported below
    }
    this.problems.push(`${name}: expected an http:// or https:// URL, got "${raw}"`);
    return undefined;
  }

  /** A certificate reference (see core/certificate-ref.ts), or undefined when unset. */
  certificateRef(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    if (isCertificateRef(raw.trim())) return raw.trim();
    this.problems.push(`${name}: expected a certificate reference (bucket:<name>, secretsmanager:<secret id> or file:<directory>), got "${raw}"`);
    return undefined;
  }

  flag(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.problems.push(`${name}: expected true or false, got "${raw}"`);
    return fallback;
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return undefined;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name}: expected one of ${choices.join(', ')}, got "${raw}"`);
    return undefined;
  }
}

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
  /** The agent endpoint as agents reach it (destination_endpoint); else the URL each poll came in on. */
  publicUrl?: string | undefined;
  /** Signing agents' CSRs: where the CA is kept (a certificate reference), and the certificates' terms. */
  csr?: { caRef: string; validityMs: number; requireInstanceUid: boolean } | undefined;
  /** How long certificate material from Secrets Manager or a file is used before it is read again. */
  certificateRefreshMs: number;
  /** Secrets Manager endpoint override (tests, LocalStack). */
  secretsManagerEndpoint?: string | undefined;
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
  const read = new SettingsReader(env);
  const d = DEFAULT_CORE_OPTIONS;
  const lastSeenRefreshMs = read.seconds('OPAMP_LAST_SEEN_REFRESH_SECONDS', d.lastSeenRefreshMs);
  const core: CoreOptions = {
    ...d,
    lastSeenRefreshMs,
    minPollIntervalMs: read.seconds('OPAMP_MIN_POLL_INTERVAL_SECONDS', d.minPollIntervalMs),
    fullStateRetryMs: read.seconds('OPAMP_FULL_STATE_RETRY_SECONDS', d.fullStateRetryMs),
    recordRetentionMs: read.number('OPAMP_RECORD_RETENTION_DAYS', d.recordRetentionMs / 86_400_000, { min: 1 }) * 86_400_000,
    remoteConfig: {
      resendAfterMs: read.seconds('OPAMP_CONFIG_RESEND_SECONDS', d.remoteConfig.resendAfterMs),
      maxAttempts: read.number('OPAMP_CONFIG_MAX_OFFERS', d.remoteConfig.maxAttempts, { min: 1, integer: true }),
    },
    packages: {
      ...d.packages,
      urlTtlSeconds: read.number('OPAMP_PACKAGE_URL_TTL_SECONDS', d.packages.urlTtlSeconds, { min: 60, max: 7 * 86_400, integer: true }),
    },
    serverCustomCapabilities: read.string('OPAMP_SERVER_CUSTOM_CAPABILITIES', '').split(',').map((c) => c.trim()).filter(Boolean),
    duplicateWindowMs: read.number('OPAMP_DUPLICATE_WINDOW_SECONDS', d.duplicateWindowMs / 1000, { min: 0 }) * 1000,
  };
  const idleSeconds = read.number('OPAMP_HEARTBEAT_IDLE_SECONDS', d.settings.heartbeat.idleSeconds, { min: 0, max: 86_400, integer: true });
  const pendingSeconds = read.number('OPAMP_HEARTBEAT_PENDING_SECONDS', d.settings.heartbeat.pendingSeconds, { min: 0, max: 86_400, integer: true });
  core.settings = {
    // An unacknowledged settings offer is repeated on the same terms as a configuration.
    resendAfterMs: core.remoteConfig.resendAfterMs,
    maxAttempts: core.remoteConfig.maxAttempts,
    heartbeat: { idleSeconds, pendingSeconds },
  };
  const caRef = read.certificateRef('OPAMP_CSR_CA');
  const csrValidityMs = read.number('OPAMP_CSR_VALIDITY_DAYS', 90, { min: 1, max: 3650 }) * 86_400_000;
  const csrRequireInstanceUid = read.flag('OPAMP_CSR_REQUIRE_INSTANCE_UID', false);
  core.features = { ...core.features, connectionSettingsRequests: caRef !== undefined };
  const config: BackendConfig = {
    tableName: read.string('OPAMP_TABLE', 'opamp-local', 3),
    bucketName: read.string('OPAMP_BUCKET', 'opamp-local', 3),
    limits: {
      maxRequestBytes: read.number('OPAMP_MAX_REQUEST_BYTES', DEFAULT_HTTP_LIMITS.maxRequestBytes, { min: 1024, integer: true }),
      gzipMinBytes: read.number('OPAMP_GZIP_MIN_BYTES', DEFAULT_HTTP_LIMITS.gzipMinBytes, { min: 0, integer: true }),
      retryAfterSeconds: read.number('OPAMP_RETRY_AFTER_SECONDS', DEFAULT_HTTP_LIMITS.retryAfterSeconds, { min: 1, integer: true }),
    },
    core,
    liveness: {
      lastSeenRefreshMs,
      expectedPollIntervalMs: read.seconds('OPAMP_EXPECTED_POLL_INTERVAL_SECONDS', 30_000),
      missedPollsBeforeStale: 3,
    },
    fleetRevalidateMs: read.number('OPAMP_FLEET_REVALIDATE_SECONDS', 10, { min: 0 }) * 1000,
    maxConfigFileBytes: read.number('OPAMP_MAX_CONFIG_FILE_BYTES', 1024 * 1024, { min: 1, integer: true }),
    configCacheBytes: read.number('OPAMP_CONFIG_CACHE_BYTES', 64 * 1024 * 1024, { min: 0, integer: true }),
    agentAuth: read.choice('OPAMP_AGENT_AUTH', ['none', 'token'] as const) ?? defaults.agentAuth,
    commandTtlMs: read.seconds('OPAMP_COMMAND_TTL_SECONDS', 3_600_000),
    publicUrl: read.url('OPAMP_PUBLIC_URL'),
    ...(caRef !== undefined ? { csr: { caRef, validityMs: csrValidityMs, requireInstanceUid: csrRequireInstanceUid } } : {}),
    certificateRefreshMs: read.seconds('OPAMP_CERTIFICATE_REFRESH_SECONDS', 900_000),
    secretsManagerEndpoint: read.url('OPAMP_SECRETS_MANAGER_ENDPOINT'),
  };
  if (read.problems.length > 0) throw new ConfigError(`invalid configuration: ${read.problems.join('; ')}`);
  return config;
}
