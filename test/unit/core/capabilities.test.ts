import { describe, expect, it } from 'vitest';
import { AgentCapabilities, ServerCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_EXTRA_FEATURES, agentCapabilityNames, agentHas, serverCapabilities } from '../../../functions/core/capabilities.js';
import type { ServerFeatures } from '../../../functions/core/capabilities.js';
import { COLLECTOR_CAPS } from '../../support/messages.js';
import { DEFINED_SERVER_CAPABILITY_BITS } from './fixtures.js';

describe('agentHas', () => {
  it.each([
    [COLLECTOR_CAPS, AgentCapabilities.AgentCapabilities_ReportsHealth, true],
    [COLLECTOR_CAPS, AgentCapabilities.AgentCapabilities_AcceptsPackages, false],
    [0n, AgentCapabilities.AgentCapabilities_ReportsStatus, false],
  ])('%s has %s → %s', (caps, capability, expected) => {
    // Act / Assess
    expect(agentHas(caps, capability)).toBe(expected);
  });
});

describe('agentCapabilityNames', () => {
  it.each<[string, bigint, string[]]>([
    ['no bits', 0n, []],
    ['one bit', 0x1n, ['ReportsStatus']],
    ['a Collector', COLLECTOR_CAPS, ['ReportsStatus', 'AcceptsRemoteConfig', 'ReportsEffectiveConfig', 'ReportsHealth', 'ReportsRemoteConfig', 'ReportsHeartbeat']],
    ['the highest defined bit', 0x8000n, ['ReportsConnectionSettingsStatus']],
    ['an undefined bit, as hex', 0x10000n, ['0x10000']],
    ['defined and undefined bits together', 0x1n | 0x2n | (1n << 40n) | (1n << 17n), ['ReportsStatus', 'AcceptsRemoteConfig', '0x10000020000']],
  ])('decodes %s', (_name, caps, expected) => {
    // Act
    const names = agentCapabilityNames(caps);

    // Assess
    expect(names).toEqual(expected);
  });

  it('names every bit the specification defines', () => {
    // Prepare
    const all = 0xffffn;

    // Act
    const names = agentCapabilityNames(all);

    // Assess
    expect(names).toHaveLength(16);
    expect(names.some((n) => n.startsWith('0x') || n === 'Unspecified')).toBe(false);
  });
});

describe('serverCapabilities', () => {
  const S = ServerCapabilities;
  const base = BigInt(S.ServerCapabilities_AcceptsStatus) | BigInt(S.ServerCapabilities_AcceptsEffectiveConfig) | BigInt(S.ServerCapabilities_AcceptsPackagesStatus);

  it.each<[string, Partial<ServerFeatures>, bigint]>([
    ['no extra features', {}, base],
    ['remote config', { remoteConfig: true }, base | BigInt(S.ServerCapabilities_OffersRemoteConfig)],
    ['packages', { packages: true }, base | BigInt(S.ServerCapabilities_OffersPackages)],
    ['connection settings', { connectionSettings: true }, base | BigInt(S.ServerCapabilities_OffersConnectionSettings)],
    ['connection settings requests', { connectionSettingsRequests: true }, base | BigInt(S.ServerCapabilities_AcceptsConnectionSettingsRequest)],
    ['everything', { remoteConfig: true, packages: true, connectionSettings: true, connectionSettingsRequests: true }, DEFINED_SERVER_CAPABILITY_BITS],
  ])('announces %s', (_name, features, expected) => {
    // Act
    const bits = serverCapabilities({ ...NO_EXTRA_FEATURES, ...features });

    // Assess
    expect(bits).toBe(expected);
    expect(bits & BigInt(S.ServerCapabilities_AcceptsStatus)).not.toBe(0n);
    expect(bits & ~DEFINED_SERVER_CAPABILITY_BITS).toBe(0n);
  });
});
