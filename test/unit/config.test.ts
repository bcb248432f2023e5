import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      tableName: 'opamp-local',
      bucketName: 'opamp-local',
      stateBucketName: 'opamp-local-state',
      limits: { maxRequestBytes: 2 * 1024 * 1024, gzipMinBytes: 512, retryAfterSeconds: 30 },
      fleetRevalidateMs: 10_000,
      agentAuth: 'none',
      commandTtlMs: 3_600_000,
    });
    expect(config.core.lastSeenRefreshMs).toBe(86_400_000);
    expect(config.liveness).toEqual({ presenceWindowMs: 60_000, expectedPollIntervalMs: 30_000, missedPollsBeforeStale: 3 });
    // Four of the longest interval (the 60 s idle one) and a window.
    expect(config.presence).toMatchObject({ windowMs: 60_000, lookbackMs: 300_000, cacheMs: 15_000 });
  });

  it('reads presence as far back as the steered idle interval needs, unless told', () => {
    expect(loadConfig({ OPAMP_HEARTBEAT_IDLE_SECONDS: '300' }).presence.lookbackMs).toBe(1_260_000);
    expect(loadConfig({ OPAMP_HEARTBEAT_IDLE_SECONDS: '300', OPAMP_PRESENCE_LOOKBACK_SECONDS: '600' }).presence.lookbackMs).toBe(600_000);
    expect(() => loadConfig({ OPAMP_PRESENCE_WINDOW_SECONDS: '1' })).toThrow(/OPAMP_PRESENCE_WINDOW_SECONDS/);
  });

  it('reads every setting it is given', () => {
    const config = loadConfig({
      OPAMP_TABLE: 'fleet-table',
      OPAMP_MAX_REQUEST_BYTES: '4096',
      OPAMP_LAST_SEEN_REFRESH_SECONDS: '600',
      OPAMP_AGENT_AUTH: 'token',
      OPAMP_SERVER_CUSTOM_CAPABILITIES: 'io.example.a, io.example.b',
      OPAMP_DUPLICATE_WINDOW_SECONDS: '0',
    });

    expect(config.tableName).toBe('fleet-table');
    expect(config.limits.maxRequestBytes).toBe(4096);
    expect(config.core.lastSeenRefreshMs).toBe(600_000);
    expect(config.agentAuth).toBe('token');
    expect(config.core.serverCustomCapabilities).toEqual(['io.example.a', 'io.example.b']);
    expect(config.core.duplicateWindowMs).toBe(0);
  });

  it('takes the deployment default for agent authentication unless the environment overrides it', () => {
    expect(loadConfig({}, { agentAuth: 'token' }).agentAuth).toBe('token');
    expect(loadConfig({ OPAMP_AGENT_AUTH: 'none' }, { agentAuth: 'token' }).agentAuth).toBe('none');
  });

  it('reads the connection settings: poll intervals, public URL and the CSR signing CA', () => {
    const defaults = loadConfig({});
    const config = loadConfig({
      OPAMP_HEARTBEAT_IDLE_SECONDS: '600',
      OPAMP_HEARTBEAT_PENDING_SECONDS: '0',
      OPAMP_PUBLIC_URL: 'https://opamp.example.com/v1/opamp',
      OPAMP_CSR_CA: 'secretsmanager:opamp/agent-ca',
      OPAMP_CSR_VALIDITY_DAYS: '30',
      OPAMP_CSR_REQUIRE_INSTANCE_UID: 'true',
      OPAMP_CONFIG_RESEND_SECONDS: '120',
      OPAMP_CSR_RENEW_AT: '0.8',
      OPAMP_CERTIFICATE_EXPIRY_WARNING_DAYS: '30',
      OPAMP_SECRET_PREFIX: 'fleet-a/',
      OPAMP_SECRET_REFRESH_SECONDS: '60',
    });

    expect(defaults.core.settings.heartbeat).toEqual({ idleSeconds: 60, pendingSeconds: 15 });
    expect(defaults.core.features).toMatchObject({ connectionSettings: true, connectionSettingsRequests: false });
    expect(defaults.csr).toBeUndefined();
    expect(defaults.publicUrl).toBeUndefined();
    expect(defaults.certificateRefreshMs).toBe(900_000);
    expect(config.core.settings).toEqual({ resendAfterMs: 120_000, maxAttempts: 3, heartbeat: { idleSeconds: 600, pendingSeconds: 0 } });
    expect(config.publicUrl).toBe('https://opamp.example.com/v1/opamp');
    expect(config.csr).toEqual({ caRef: 'secretsmanager:opamp/agent-ca', validityMs: 30 * 86_400_000, requireInstanceUid: true, renewAtFraction: 0.8 });
    expect(defaults.certificateExpiryWarningMs).toBe(14 * 86_400_000);
    expect(config.certificateExpiryWarningMs).toBe(30 * 86_400_000);
    expect([defaults.secretPrefix, defaults.secretRefreshMs]).toEqual(['opamp/', 300_000]);
    expect([config.secretPrefix, config.secretRefreshMs]).toEqual(['fleet-a/', 60_000]);
    expect(config.core.features.connectionSettingsRequests).toBe(true);
  });

  it('refuses a public URL that is not http(s), a CA that is not a certificate reference, and bad intervals', () => {
    let message = '';
    try {
      loadConfig({
        OPAMP_PUBLIC_URL: 'ftp://opamp.example.com',
        OPAMP_CSR_CA: 'vault:agent-ca',
        OPAMP_HEARTBEAT_IDLE_SECONDS: '-5',
        OPAMP_HEARTBEAT_PENDING_SECONDS: '2.5',
        OPAMP_CSR_REQUIRE_INSTANCE_UID: 'sometimes',
      });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain('OPAMP_PUBLIC_URL: expected an http:// or https:// URL, got "ftp://opamp.example.com"');
    expect(message).toContain('OPAMP_CSR_CA: expected a certificate reference');
    expect(message).toContain('OPAMP_HEARTBEAT_IDLE_SECONDS: expected an integer >= 0 and <= 86400, got "-5"');
    expect(message).toContain('OPAMP_HEARTBEAT_PENDING_SECONDS: expected an integer');
    expect(message).toContain('OPAMP_CSR_REQUIRE_INSTANCE_UID: expected true or false, got "sometimes"');
  });

  it('keeps server state in a bucket of its own: next to the operator bucket by default, or as named', () => {
    expect(loadConfig({ OPAMP_BUCKET: 'fleet-files' }).stateBucketName).toBe('fleet-files-state');
    expect(loadConfig({ OPAMP_BUCKET: 'fleet-files', OPAMP_STATE_BUCKET: 'fleet-private' }).stateBucketName).toBe('fleet-private');
    expect(() => loadConfig({ OPAMP_BUCKET: 'fleet-files', OPAMP_STATE_BUCKET: 'fleet-files' })).toThrow('OPAMP_STATE_BUCKET: must name a bucket other than OPAMP_BUCKET');
  });

  it('names every bad setting in one error', () => {
    const error = (() => {
      try {
        loadConfig({ OPAMP_MAX_REQUEST_BYTES: 'lots', OPAMP_AGENT_AUTH: 'maybe', OPAMP_TABLE: 'x', OPAMP_RETRY_AFTER_SECONDS: '1.5' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain('OPAMP_MAX_REQUEST_BYTES');
    expect(error?.message).toContain('OPAMP_AGENT_AUTH: expected one of none, token, got "maybe"');
    expect(error?.message).toContain('OPAMP_TABLE');
    expect(error?.message).toContain('OPAMP_RETRY_AFTER_SECONDS');
  });
  it('bounds store calls: request deadlines and per-attempt timeouts, with defaults that fit the functions', () => {
    const defaults = loadConfig({});
    const set = loadConfig({
      OPAMP_POLL_DEADLINE_SECONDS: '1.5',
      OPAMP_HEALTH_DEADLINE_SECONDS: '0.5',
      OPAMP_API_DEADLINE_SECONDS: '12',
      OPAMP_STORE_CONNECT_TIMEOUT_SECONDS: '0.2',
      OPAMP_STORE_REQUEST_TIMEOUT_SECONDS: '0.8',
    });

    // The poll deadline bounds all attempts together: at most 3 s, as agents and the 10 s function expect.
    expect(defaults.deadlines).toEqual({ pollMs: 2_500, healthMs: 1_500, apiMs: 20_000 });
    expect(defaults.storeTimeouts).toEqual({ connectMs: 1_000, requestMs: 2_000 });
    expect(set.deadlines).toEqual({ pollMs: 1_500, healthMs: 500, apiMs: 12_000 });
    expect(set.storeTimeouts).toEqual({ connectMs: 200, requestMs: 800 });
    expect(() => loadConfig({ OPAMP_POLL_DEADLINE_SECONDS: '9' })).toThrow(/OPAMP_POLL_DEADLINE_SECONDS: expected a number >= 0.05 and <= 8, got "9"/);
    expect(() => loadConfig({ OPAMP_API_DEADLINE_SECONDS: '0' })).toThrow(/OPAMP_API_DEADLINE_SECONDS/);
    expect(() => loadConfig({ OPAMP_STORE_REQUEST_TIMEOUT_SECONDS: 'soon' })).toThrow(/OPAMP_STORE_REQUEST_TIMEOUT_SECONDS/);
  });
});
