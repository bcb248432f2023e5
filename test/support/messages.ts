import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { parse as parseUuid, v7 as uuidv7 } from 'uuid';
import { AnyValueSchema, KeyValueSchema } from '../../functions/gen/opamp/v1/anyvalue_pb.js';
import type { KeyValue } from '../../functions/gen/opamp/v1/anyvalue_pb.js';
import {
  AgentCapabilities as Caps,
  AgentDescriptionSchema,
  AgentToServerSchema,
  ComponentHealthSchema,
  EffectiveConfigSchema,
  RemoteConfigStatusSchema,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentDescription, AgentToServer, ComponentHealth, EffectiveConfig } from '../../functions/gen/opamp/v1/opamp_pb.js';

/** Builders for OpAMP messages, so tests read as what an agent says. */

export function newUidBytes(): Uint8Array {
  return parseUuid(uuidv7());
}

export function caps(...names: Array<keyof typeof Caps>): bigint {
  return names.reduce((bits, name) => bits | BigInt(Caps[name]), 0n);
}

/** What a Collector under the supervisor typically announces. */
export const COLLECTOR_CAPS = caps(
  'AgentCapabilities_ReportsStatus',
  'AgentCapabilities_AcceptsRemoteConfig',
  'AgentCapabilities_ReportsEffectiveConfig',
  'AgentCapabilities_ReportsHealth',
  'AgentCapabilities_ReportsRemoteConfig',
  'AgentCapabilities_ReportsHeartbeat',
);

/** What a minimal SDK client announces. */
export const SDK_CAPS = caps('AgentCapabilities_ReportsStatus', 'AgentCapabilities_ReportsHeartbeat');

export function keyValues(attrs: Record<string, string | number | boolean>): KeyValue[] {
  return Object.entries(attrs).map(([key, v]) =>
    create(KeyValueSchema, {
      key,
      value: create(AnyValueSchema, {
        value: typeof v === 'string' ? { case: 'stringValue', value: v } : typeof v === 'boolean' ? { case: 'boolValue', value: v } : { case: 'intValue', value: BigInt(v) },
      }),
    }),
  );
}

export function description(identifying: Record<string, string | number | boolean>, nonIdentifying: Record<string, string | number | boolean> = {}): AgentDescription {
  return create(AgentDescriptionSchema, {
    identifyingAttributes: keyValues(identifying),
    nonIdentifyingAttributes: keyValues(nonIdentifying),
  });
}

export function health(healthy: boolean, components: Record<string, boolean> = {}, lastError = ''): ComponentHealth {
  const componentHealthMap: Record<string, ComponentHealth> = {};
  for (const [name, ok] of Object.entries(components)) {
    componentHealthMap[name] = create(ComponentHealthSchema, { healthy: ok, status: ok ? 'StatusOK' : 'StatusRecoverableError' });
  }
  return create(ComponentHealthSchema, {
    healthy,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    status: healthy ? 'StatusOK' : 'StatusRecoverableError',
    lastError,
    componentHealthMap,
  });
}

export function effectiveConfig(files: Record<string, string>): EffectiveConfig {
  const configMap: Record<string, { body: Uint8Array; contentType: string }> = {};
  for (const [name, body] of Object.entries(files)) configMap[name] = { body: new TextEncoder().encode(body), contentType: 'text/yaml' };
  return create(EffectiveConfigSchema, { configMap: { configMap } });
}

export function agentToServer(init: MessageInitShape<typeof AgentToServerSchema>): AgentToServer {
  return create(AgentToServerSchema, init);
}

/** Everything a Collector sends in its first message. */
export function fullReport(uid: Uint8Array, sequenceNum: bigint, overrides: MessageInitShape<typeof AgentToServerSchema> = {}): AgentToServer {
  return agentToServer({
    instanceUid: uid,
    sequenceNum,
    capabilities: COLLECTOR_CAPS,
    agentDescription: description({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.140.0' }, { 'os.type': 'linux', 'host.name': 'host-1' }),
    health: health(true, { 'pipeline:traces': true }),
    effectiveConfig: effectiveConfig({ '': 'receivers: {}\n' }),
    remoteConfigStatus: create(RemoteConfigStatusSchema, {}),
    ...overrides,
  });
}

/** A poll with nothing to report. */
export function heartbeat(uid: Uint8Array, sequenceNum: bigint, capabilities = COLLECTOR_CAPS): AgentToServer {
  return agentToServer({ instanceUid: uid, sequenceNum, capabilities });
}
