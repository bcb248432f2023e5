import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentCapabilities, CommandType, ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { gateReply } from '../../../functions/core/reply-gates.js';
import { AGENT_UID, ASSIGNED_UID, DEFINED_SERVER_CAPABILITY_BITS, REPORT_AVAILABLE_COMPONENTS, REPORT_FULL_STATE } from './fixtures.js';

const A = AgentCapabilities;
const bit = (c: AgentCapabilities) => BigInt(c);
/** Every agent capability the specification defines, except the restart command. */
const ALL_BUT_RESTART = 0xffffn & ~bit(A.AgentCapabilities_AcceptsRestartCommand);
const bytes = (text: string) => new TextEncoder().encode(text);

/** A reply that offers everything a ServerToAgent can carry. */
function everything(overrides: { command?: boolean } = {}): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid: AGENT_UID,
    capabilities: DEFINED_SERVER_CAPABILITY_BITS,
    flags: REPORT_FULL_STATE | REPORT_AVAILABLE_COMPONENTS,
    remoteConfig: { configHash: bytes('cfg'), config: { configMap: { '': { body: bytes('receivers: {}'), contentType: 'text/yaml' } } } },
    packagesAvailable: { allPackagesHash: bytes('all'), packages: { otelcol: { version: '0.140.0', hash: bytes('p') } } },
    connectionSettings: {
      hash: bytes('cs'),
      opamp: { destinationEndpoint: 'https://opamp.example/v1/opamp' },
      ownMetrics: { destinationEndpoint: 'https://otlp.example/v1/metrics' },
      ownTraces: { destinationEndpoint: 'https://otlp.example/v1/traces' },
      ownLogs: { destinationEndpoint: 'https://otlp.example/v1/logs' },
      otherConnections: { kafka: { destinationEndpoint: 'kafka:9092' } },
    },
    agentIdentification: { newInstanceUid: ASSIGNED_UID },
    customCapabilities: { capabilities: ['io.example.ping'] },
    customMessage: { capability: 'io.example.ping', type: 'ping', data: bytes('hi') },
    ...(overrides.command ? { command: { type: CommandType.CommandType_Restart } } : {}),
  });
}

const otherCount = (r: ServerToAgent) => Object.keys(r.connectionSettings?.otherConnections ?? {}).length;

describe('gateReply', () => {
  const gated: Array<[string, AgentCapabilities, (r: ServerToAgent) => boolean]> = [
    ['remote_config', A.AgentCapabilities_AcceptsRemoteConfig, (r) => r.remoteConfig !== undefined],
    ['packages_available', A.AgentCapabilities_AcceptsPackages, (r) => r.packagesAvailable !== undefined],
    ['connection_settings.opamp', A.AgentCapabilities_AcceptsOpAMPConnectionSettings, (r) => r.connectionSettings?.opamp !== undefined],
    ['connection_settings.own_metrics', A.AgentCapabilities_ReportsOwnMetrics, (r) => r.connectionSettings?.ownMetrics !== undefined],
    ['connection_settings.own_traces', A.AgentCapabilities_ReportsOwnTraces, (r) => r.connectionSettings?.ownTraces !== undefined],
    ['connection_settings.own_logs', A.AgentCapabilities_ReportsOwnLogs, (r) => r.connectionSettings?.ownLogs !== undefined],
    ['connection_settings.other_connections', A.AgentCapabilities_AcceptsOtherConnectionSettings, (r) => otherCount(r) > 0],
    ['the ReportAvailableComponents flag', A.AgentCapabilities_ReportsAvailableComponents, (r) => (r.flags & REPORT_AVAILABLE_COMPONENTS) !== 0n],
  ];

  it.each(gated)('removes %s when the agent lacks its capability', (_name, capability, present) => {
    // Prepare
    const reply = everything();
    const capabilities = ALL_BUT_RESTART & ~bit(capability);

    // Act
    const result = gateReply(reply, { capabilities, customCapabilities: ['io.example.ping'] });

    // Assess
    expect(present(result)).toBe(false);
  });

  it.each(gated)('keeps %s when the agent has only its capability', (_name, capability, present) => {
    // Prepare
    const reply = everything();

    // Act
    const result = gateReply(reply, { capabilities: bit(capability) });

    // Assess
    expect(present(result)).toBe(true);
  });

  it('keeps everything for an agent that accepts everything but commands', () => {
    // Prepare
    const expected = everything();

    // Act
    const result = gateReply(everything(), { capabilities: ALL_BUT_RESTART, customCapabilities: ['io.example.ping'] });

    // Assess
    expect(result).toEqual(expected);
  });

  it('drops connection_settings altogether when the agent accepts none of its parts', () => {
    // Prepare
    const capabilities = bit(A.AgentCapabilities_AcceptsRemoteConfig) | bit(A.AgentCapabilities_ReportsHealth);

    // Act
    const result = gateReply(everything(), { capabilities });

    // Assess
    expect(result.connectionSettings).toBeUndefined();
    expect(result.remoteConfig).toBeDefined();
  });

  it('keeps the connection settings hash with the parts the agent accepts', () => {
    // Act
    const result = gateReply(everything(), { capabilities: bit(A.AgentCapabilities_ReportsOwnLogs) });

    // Assess
    expect(result.connectionSettings?.hash).toEqual(bytes('cs'));
    expect(result.connectionSettings?.ownLogs?.destinationEndpoint).toBe('https://otlp.example/v1/logs');
    expect(result.connectionSettings?.opamp).toBeUndefined();
    expect(otherCount(result)).toBe(0);
  });

  it.each<[string, bigint]>([
    ['no capabilities', 0n],
    ['only undefined capability bits', ~0xffffn & ((1n << 64n) - 1n)],
  ])('leaves an agent with %s only the uid, capabilities, ReportFullState and what needs no capability', (_name, capabilities) => {
    // Act
    const result = gateReply(everything(), { capabilities });

    // Assess
    expect(result.remoteConfig).toBeUndefined();
    expect(result.packagesAvailable).toBeUndefined();
    expect(result.connectionSettings).toBeUndefined();
    expect(result.customMessage).toBeUndefined();
    expect(result.flags).toBe(REPORT_FULL_STATE);
    expect(result.instanceUid).toEqual(AGENT_UID);
    expect(result.capabilities).toBe(DEFINED_SERVER_CAPABILITY_BITS);
    expect(result.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
  });

  it.each<[string, string[] | undefined, boolean]>([
    ['advertised', ['io.example.other', 'io.example.ping'], true],
    ['not advertised', ['io.example.other'], false],
    ['an empty list', [], false],
    ['no list', undefined, false],
    ['a differently versioned capability', ['io.example.ping/v2'], false],
  ])('custom_message for a capability %s → kept: %s', (_name, customCapabilities, kept) => {
    // Act
    const result = gateReply(everything(), { capabilities: ALL_BUT_RESTART, customCapabilities });

    // Assess
    expect(result.customMessage !== undefined).toBe(kept);
  });

  it('drops a command the agent does not accept and keeps the rest', () => {
    // Prepare
    const expected = everything();

    // Act
    const result = gateReply(everything({ command: true }), { capabilities: ALL_BUT_RESTART, customCapabilities: ['io.example.ping'] });

    // Assess
    expect(result.command).toBeUndefined();
    expect(result).toEqual(expected);
  });

  it('sends an accepted command alone: only uid, capabilities and command', () => {
    // Prepare
    const expected = create(ServerToAgentSchema, {
      instanceUid: AGENT_UID,
      capabilities: DEFINED_SERVER_CAPABILITY_BITS,
      command: { type: CommandType.CommandType_Restart },
    });

    // Act
    const result = gateReply(everything({ command: true }), { capabilities: 0xffffn, customCapabilities: ['io.example.ping'] });

    // Assess
    expect(result).toEqual(expected);
  });
});
