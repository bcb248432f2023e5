import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      tableName: 'opamp-local',
      bucketName: 'opamp-local',
      limits: { maxRequestBytes: 2 * 1024 * 1024, gzipMinBytes: 512, retryAfterSeconds: 30 },
      fleetRevalidateMs: 10_000,
      agentAuth: 'none',
      commandTtlMs: 3_600_000,
    });
    expect(config.core.lastSeenRefreshMs).toBe(300_000);
    expect(config.liveness).toEqual({ lastSeenRefreshMs: 300_000, expectedPollIntervalMs: 30_000, missedPollsBeforeStale: 3 });
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
    expect(config.liveness.lastSeenRefreshMs).toBe(600_000);
    expect(config.agentAuth).toBe('token');
    expect(config.core.serverCustomCapabilities).toEqual(['io.example.a', 'io.example.b']);
    expect(config.core.duplicateWindowMs).toBe(0);
  });

  it('takes the deployment default for agent authentication unless the environment overrides it', () => {
    expect(loadConfig({}, { agentAuth: 'token' }).agentAuth).toBe('token');
    expect(loadConfig({ OPAMP_AGENT_AUTH: 'none' }, { agentAuth: 'token' }).agentAuth).toBe('none');
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
});
