import { describe, expect, it } from 'vitest';
import { configHash } from '../../../functions/core/config-hash.js';
import { allPackagesHash, packageHash } from '../../../functions/core/packages.js';
import type { PackageVersionMeta } from '../../../functions/core/packages.js';
import { settingsHashOf } from '../../../functions/core/connection-settings.js';
import { parseSettings } from '../../../functions/core/settings-file.js';
import { connectionContext, desired, resolvedCertificate } from './settings-fixtures.js';

/**
 * Fixed answers for every hash agents see or the store keeps. Agents compare
 * these hashes with what they hold: if a release computed any of them
 * differently, every agent of the fleet would be offered its configuration,
 * packages or settings again right after the deploy. A change here must be a
 * deliberate, announced one.
 */

const CONFIG_FILES = [
  { fileName: 'collector.yaml', contentType: 'text/yaml', sha256: 'a'.repeat(64) },
  { fileName: 'extra/processors.yaml', contentType: 'text/yaml', sha256: 'b'.repeat(64) },
];

const COLLECTOR: PackageVersionMeta = {
  name: '',
  version: '0.115.0',
  objectKey: 'packages/_agent/0.115.0/otelcol.tar.gz',
  sha256: 'c'.repeat(64),
  size: 1000,
};
const PLUGIN: PackageVersionMeta = {
  name: 'plugin',
  version: '1.2.3',
  objectKey: 'packages/plugin/1.2.3/plugin.so',
  sha256: 'd'.repeat(64),
  size: 10,
  signature: 'c2lnbmF0dXJl',
};

describe('golden hashes', () => {
  it('configuration hash', () => {
    expect(configHash(CONFIG_FILES)).toBe('9oJ+S6UL8OW+U6EvoegPcjvr1g6gs2jtTkYL9rEF+KM=');
    // The order files were listed in does not matter.
    expect(configHash([...CONFIG_FILES].reverse())).toBe(configHash(CONFIG_FILES));
  });

  it('package hash, with and without a signature', () => {
    expect(packageHash(COLLECTOR)).toBe('ThNgp8tBTI216tAGaOfkI2JXp55023BGQkTxc5kilTs=');
    expect(packageHash(PLUGIN)).toBe('7IvWsB25eRP6UgDWWgui5ZJjHO64JW742DuAamev0Gw=');
  });

  it('package hash ignores where the file is kept and how large it is', () => {
    expect(packageHash({ ...COLLECTOR, objectKey: 'elsewhere', size: 1 })).toBe(packageHash(COLLECTOR));
  });

  it('all-packages hash', () => {
    expect(allPackagesHash([COLLECTOR, PLUGIN])).toBe('5U+Gip4jUmcRVEnQEoxJ7uvQKn+XEiGBQoO+wrZ0RcU=');
    expect(allPackagesHash([PLUGIN, COLLECTOR])).toBe(allPackagesHash([COLLECTOR, PLUGIN]));
  });

  it('settings hash over part hashes', () => {
    expect(settingsHashOf({ opamp: 'x', ownMetrics: 'y' })).toBe('fVkbUUHd1LAy3hb/zbStY/5NzbD4PfV+iJxy3jBp8ic=');
  });

  it('settings hash of a settings document', () => {
    const spec = parseSettings(
      JSON.stringify({
        opamp: { heartbeat: { idleSeconds: 300, pendingSeconds: 30 } },
        ownMetrics: { endpoint: 'https://metrics.example.com/v1/metrics', headers: { 'x-team': 'checkout' } },
        ownLogs: { endpoint: 'https://logs.example.com/v1/logs', certificate: 'logs-client' },
      }),
    );
    const context = connectionContext({ certificates: { 'logs-client': resolvedCertificate('logs-client') } });
    const settings = desired({ spec, context });
    expect(settings.problems).toEqual([]);
    expect(settings.hash).toBe('NUv8Bhlt1O05RF6PZCRRn/cJVAdsQ/9hwd3ZhjLcl80=');
    expect(settings.baseHash).toBe('vd8mIjWGT6vmrZMWR59BZA');
  });
});
