import { create, toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  AgentToServerFlags,
  AgentToServerSchema,
  AvailableComponentsSchema,
  ConnectionSettingsStatusSchema,
  CustomCapabilitiesSchema,
  PackageStatusesSchema,
  RemoteConfigStatusSchema,
  ServerToAgentFlags,
} from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, AvailableComponents, ConnectionSettingsStatus, PackageStatuses, RemoteConfigStatus, ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { contentId } from '../../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import { COLLECTOR_CAPS, agentToServer, fullReport, heartbeat, keyValues } from '../../support/messages.js';

/**
 * Shared fixtures for the protocol-core unit tests. Uids are given as both
 * canonical text and bytes, written out independently of instance-uid.ts so
 * that the tests do not borrow the conversion they check elsewhere.
 */

export const AGENT_UID_TEXT = '01890a5d-ac96-774b-bcce-b302099a8057';
export const AGENT_UID = hexBytes('01890a5dac96774bbcceb302099a8057');
export const ASSIGNED_UID_TEXT = '01890a5e-0000-7000-8000-00000000abcd';
export const ASSIGNED_UID = hexBytes('01890a5e00007000800000000000abcd');

export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** A fixed clock: every test states its times relative to this. */
export const T0 = 1_750_000_000_000;
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;

/** The options every decidePoll test runs with, spelled out so the numbers in tests can be read. */
export const OPTIONS: CoreOptions = {
  ...DEFAULT_CORE_OPTIONS,
  lastSeenRefreshMs: 5 * MINUTE,
  minPollIntervalMs: 15 * SECOND,
  fullStateRetryMs: 10 * MINUTE,
  recordRetentionMs: 30 * 24 * 60 * MINUTE,
  redirectRetentionMs: 24 * 60 * MINUTE,
};

export const ALL_FEATURES: CoreOptions = {
  ...OPTIONS,
  features: { remoteConfig: true, packages: true, connectionSettings: true, connectionSettingsRequests: true },
};

export const REPORT_FULL_STATE = BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
export const REPORT_AVAILABLE_COMPONENTS = BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents);
export const REQUEST_INSTANCE_UID = BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid);

/** All ServerCapabilities bits the specification defines (0x01..0x40). */
export const DEFINED_SERVER_CAPABILITY_BITS = 0x7fn;

export function asksFullState(reply: ServerToAgent): boolean {
  return (reply.flags & REPORT_FULL_STATE) !== 0n;
}

/** The content id the HTTP edge gives a request body. */
export function digestOf(message: AgentToServer): string {
  return contentId(toBinary(AgentToServerSchema, message));
}

export interface PollArgs {
  record?: AgentRecord | undefined;
  now?: number;
  digest?: string;
  options?: CoreOptions;
  newInstanceUid?: () => string;
}

/** decidePoll with the fixtures' defaults; the stored record is cloned so the test keeps its own copy. */
export function poll(message: AgentToServer, args: PollArgs = {}): PollDecision {
  return decidePoll({
    record: args.record === undefined ? undefined : structuredClone(args.record),
    message,
    messageDigest: args.digest ?? digestOf(message),
    now: args.now ?? T0,
    newInstanceUid:
      args.newInstanceUid ??
      (() => {
        throw new Error('newInstanceUid called although no uid was requested');
      }),
    options: args.options ?? OPTIONS,
  });
}

/** The record a decision stores last (the state the next poll reads). */
export function storedAfter(decision: PollDecision): AgentRecord {
  const last = decision.records.at(-1);
  if (!last) throw new Error('the decision wrote no record');
  return structuredClone(last.record);
}

/** An agent the server knows: it sent a full report with sequence number `seq` at `now`. */
export function knownAgent(seq = 10n, now = T0, overrides: MessageInitShape<typeof AgentToServerSchema> = {}): AgentRecord {
  return storedAfter(poll(fullReport(AGENT_UID, seq, overrides), { now }));
}

export function hb(seq: bigint, capabilities?: bigint): AgentToServer {
  return capabilities === undefined ? heartbeat(AGENT_UID, seq) : heartbeat(AGENT_UID, seq, capabilities);
}

export function msg(seq: bigint, init: MessageInitShape<typeof AgentToServerSchema>): AgentToServer {
  return agentToServer({ instanceUid: AGENT_UID, sequenceNum: seq, capabilities: COLLECTOR_CAPS, ...init });
}

export function remoteConfigStatus(hashText: string, status: number, errorMessage = ''): RemoteConfigStatus {
  return create(RemoteConfigStatusSchema, {
    lastRemoteConfigHash: new TextEncoder().encode(hashText),
    status,
    errorMessage,
  });
}

export function connectionSettingsStatus(hashText: string, status: number, errorMessage = ''): ConnectionSettingsStatus {
  return create(ConnectionSettingsStatusSchema, {
    lastConnectionSettingsHash: new TextEncoder().encode(hashText),
    status,
    errorMessage,
  });
}

/** Package statuses with the packages in the order given. */
export function packageStatuses(packages: Array<[name: string, version: string]>, offeredHash = 'all-1'): PackageStatuses {
  const map: Record<string, { name: string; agentHasVersion: string }> = {};
  for (const [name, version] of packages) map[name] = { name, agentHasVersion: version };
  return create(PackageStatusesSchema, {
    packages: map,
    serverProvidedAllPackagesHash: new TextEncoder().encode(offeredHash),
  });
}

/** Available components with the agent's own hash; the map in the order given (empty: hash only). */
export function availableComponents(hashText: string, components: Array<[name: string, version: string]> = []): AvailableComponents {
  const map: Record<string, { metadata: ReturnType<typeof keyValues> }> = {};
  for (const [name, version] of components) map[name] = { metadata: keyValues({ 'code.namespace': name, version }) };
  return create(AvailableComponentsSchema, { hash: new TextEncoder().encode(hashText), components: map });
}

export function customCapabilities(...capabilities: string[]) {
  return create(CustomCapabilitiesSchema, { capabilities });
}

export function requestsUid(message: AgentToServer): AgentToServer {
  message.flags |= REQUEST_INSTANCE_UID;
  return message;
}
