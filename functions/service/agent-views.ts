import { fromBinary, toJson } from '@bufbuild/protobuf';
import type { JsonValue } from '@bufbuild/protobuf';
import type { AgentRecord, ReportedApplyStatus } from '../core/agent-record.js';
import { keyValuesToJson } from '../core/attributes.js';
import { agentCapabilityNames } from '../core/capabilities.js';
import { deriveLiveness, lastSeenAt } from '../core/liveness.js';
import { configRolloutState } from '../core/remote-config.js';
import type { ConfigRolloutState, RemoteConfigPolicy } from '../core/remote-config.js';
import type { ConfigTarget, SettingsTarget, StagedBy } from '../core/targeting.js';
import { settingsRolloutState } from '../core/connection-settings.js';
import type { SettingsRolloutState } from '../core/connection-settings.js';
import type { DesiredState } from '../core/desired-state.js';
import { packageFolderOfName, packageRolloutState } from '../core/packages.js';
import type { PackageRolloutState, PackageStatusSummary } from '../core/packages.js';
import type { Liveness, LivenessPolicy } from '../core/liveness.js';
import type { PresenceSighting } from '../core/presence.js';
import { SECTION_SCHEMAS } from '../core/sections.js';
import { ConnectionSettingsStatuses, RemoteConfigStatuses } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentDescription, EffectiveConfig } from '../gen/opamp/v1/opamp_pb.js';
import type { StoredSection } from '../ports/agent-store.js';
import type { Truncation } from '../core/record-bounds.js';

/** One agent in a fleet listing: what the per-poll record and the presence batches hold, nothing more. */
export interface AgentSummaryView {
  instanceUid: string;
  liveness: Liveness;
  healthy: boolean | null;
  attributes: Record<string, string>;
  /** Set when the record keeps only part of the attributes (the description has them all). */
  attributesTruncated?: Truncation;
  capabilities: string[];
  sequenceNum: string;
  /** The agent token its last poll authenticated with. */
  token: string | null;
  /** The poll interval the server last asked of it (seconds), if it steers this agent. */
  heartbeatSeconds: number | null;
  firstSeenAt: string;
  /** The last poll answered, from the agent's record or the presence batches (trails by up to one interval and the batch window). */
  lastSeenAt: string;
  disconnectedAt?: string;
}

export interface ApplyStatusView {
  /** Hex of the hash the agent reported. */
  hash: string;
  status: string;
  errorMessage: string;
}

export interface ConfigFileView {
  contentType: string;
  /** `utf8` when the body is text, else `base64`. */
  encoding: 'utf8' | 'base64';
  body: string;
}

/**
 * The staged rollout that decided an aspect for the agent: its id, the side
 * the agent is on (`to`: the new version, its wave started or it has it;
 * `from`: the previous version, waiting for its wave) and the rollout's state.
 * The rollout is `/api/v1/rollouts/{via}/{config|packages}`.
 */
export type StagedByView = StagedBy;

export interface RemoteConfigView {
  /** The configuration this agent should run, the assignment (or `default`) that chose it, and the staged rollout that decided the version (null when none did). */
  desired: { config: string; hash: string | null; via: string; rollout: StagedByView | null } | null;
  state: ConfigRolloutState;
  /** The last offer made, with what became of it. */
  offer: {
    config: string;
    hash: string;
    offeredAt: string;
    attempts: number;
    acknowledged: boolean;
    rolledBackAt: string | null;
    rollbackMessage: string | null;
  } | null;
}

export interface PackagesView {
  /**
   * The package set this agent should have, the assignment that chose it, where
   * the agent stands with each package (`not-accepted` when it does not accept
   * packages), why the set cannot be offered (if so), and the staged rollout
   * that decided the set (null when none did).
   */
  desired: { via: string; versions: Record<string, string>; states: Record<string, PackageRolloutState>; errors: string[]; rollout: StagedByView | null } | null;
  offer: { hash: string; offeredAt: string; attempts: number } | null;
  /** The agent's last report per package (`_agent` is the agent itself). */
  statuses: Record<string, PackageStatusSummary>;
}

export interface ConnectionSettingsView {
  /** The settings document this agent gets, and the assignment (or `default`) that chose it. */
  desired: { settings: string; via: string; exists: boolean } | null;
  state: SettingsRolloutState;
  /** The last offer, with the parts it carried (`opamp`, `ownMetrics`, ..., `other:<name>`). */
  offer: { hash: string; offeredAt: string; attempts: number; parts: string[]; heartbeatSeconds: number | null } | null;
  /** What the agent has, as it reported (or, when it does not report, as it was sent). */
  applied: { hash: string; at: string; assumed: boolean; heartbeatSeconds: number | null } | null;
  /** A client certificate the server signed for the agent's CSR. */
  issuedCertificate: { fingerprint: string; serialNumber: string; issuedAt: string; notAfter: string } | null;
  /** Why parts are withheld from the agent, as its last poll found (a token that cannot be handed out, a missing certificate, ...). */
  problems: string[];
}

export interface AgentDetailView extends AgentSummaryView {
  description: { identifyingAttributes: Record<string, unknown>; nonIdentifyingAttributes: Record<string, unknown> } | null;
  health: JsonValue | null;
  effectiveConfig: { files: Record<string, ConfigFileView> } | null;
  remoteConfigStatus: ApplyStatusView | null;
  connectionSettingsStatus: ApplyStatusView | null;
  packageStatuses: JsonValue | null;
  customCapabilities: string[];
  /** Set when only part of the agent's custom capabilities is kept. */
  customCapabilitiesTruncated?: Truncation;
  availableComponents: { hash: string; components: JsonValue | null } | null;
  remoteConfig?: RemoteConfigView;
  packages?: PackagesView;
  connectionSettings?: ConnectionSettingsView;
  commands: {
    pending: { type: string; id: string; queuedAt: string; expiresAt: string } | null;
    last: { type: string; id: string; queuedAt: string; deliveredAt: string | null; expiredAt: string | null } | null;
  };
  queuedMessages: number;
  receivedMessages: number;
  /** Other agents that were found using this uid, and the uid each was given. */
  duplicates: Array<{ at: string; newInstanceUid: string; reason: string }>;
}

export function summaryView(record: AgentRecord, now: number, policy: LivenessPolicy, sighting?: PresenceSighting): AgentSummaryView {
  return {
    instanceUid: record.instanceUid,
    liveness: deriveLiveness(record, now, policy, sighting),
    healthy: record.healthy ?? null,
    attributes: record.attributes,
    ...(record.attributesTruncated ? { attributesTruncated: record.attributesTruncated } : {}),
    capabilities: agentCapabilityNames(record.capabilities),
    sequenceNum: record.sequenceNum.toString(),
    token: record.tokenName ?? null,
    heartbeatSeconds: record.heartbeatSeconds ?? null,
    firstSeenAt: iso(record.firstSeenAt),
    lastSeenAt: iso(lastSeenAt(record, sighting)),
    ...(record.disconnectedAt !== undefined ? { disconnectedAt: iso(record.disconnectedAt) } : {}),
  };
}

export type SectionsByKind = { [K in StoredSection['kind']]?: StoredSection };

export function detailView(record: AgentRecord, sections: SectionsByKind, now: number, policy: LivenessPolicy, sighting?: PresenceSighting): AgentDetailView {
  const description = sections.description && (fromBinary(SECTION_SCHEMAS.description, sections.description.bytes) as AgentDescription);
  const effectiveConfig = sections.effectiveConfig && (fromBinary(SECTION_SCHEMAS.effectiveConfig, sections.effectiveConfig.bytes) as EffectiveConfig);
  return {
    ...summaryView(record, now, policy, sighting),
    description: description
      ? {
          identifyingAttributes: keyValuesToJson(description.identifyingAttributes),
          nonIdentifyingAttributes: keyValuesToJson(description.nonIdentifyingAttributes),
        }
      : null,
    // Every field shown, so that an unhealthy component says `healthy: false` rather than nothing.
    health: sections.health ? toJson(SECTION_SCHEMAS.health, fromBinary(SECTION_SCHEMAS.health, sections.health.bytes), { alwaysEmitImplicit: true }) : null,
    effectiveConfig: effectiveConfig ? { files: configFilesView(effectiveConfig) } : null,
    remoteConfigStatus: record.remoteConfigStatus ? applyStatusView(record.remoteConfigStatus, RemoteConfigStatuses) : null,
    connectionSettingsStatus: record.connectionSettingsStatus ? applyStatusView(record.connectionSettingsStatus, ConnectionSettingsStatuses) : null,
    packageStatuses: sections.packageStatuses ? toJson(SECTION_SCHEMAS.packageStatuses, fromBinary(SECTION_SCHEMAS.packageStatuses, sections.packageStatuses.bytes)) : null,
    customCapabilities: record.customCapabilities ?? [],
    ...(record.customCapabilitiesTruncated ? { customCapabilitiesTruncated: record.customCapabilitiesTruncated } : {}),
    commands: {
      pending: record.pendingCommand
        ? { type: record.pendingCommand.type, id: record.pendingCommand.id, queuedAt: iso(record.pendingCommand.queuedAt), expiresAt: iso(record.pendingCommand.expiresAt) }
        : null,
      last: record.lastCommand
        ? {
            type: record.lastCommand.type,
            id: record.lastCommand.id,
            queuedAt: iso(record.lastCommand.queuedAt),
            deliveredAt: record.lastCommand.deliveredAt !== undefined ? iso(record.lastCommand.deliveredAt) : null,
            expiredAt: record.lastCommand.expiredAt !== undefined ? iso(record.lastCommand.expiredAt) : null,
          }
        : null,
    },
    queuedMessages: record.outbox?.length ?? 0,
    receivedMessages: record.inboxCount ?? 0,
    duplicates: (record.duplicates ?? []).map((d) => ({ at: iso(d.at), newInstanceUid: d.newInstanceUid, reason: d.reason })),
    availableComponents:
      record.availableComponentsHash !== undefined
        ? {
            hash: Buffer.from(record.availableComponentsHash, 'base64url').toString('hex'),
            components:
              sections.availableComponents?.hash === record.availableComponentsHash
                ? ((toJson(SECTION_SCHEMAS.availableComponents, fromBinary(SECTION_SCHEMAS.availableComponents, sections.availableComponents.bytes)) as { components?: JsonValue }).components ?? {})
                : null,
          }
        : null,
  };
}

export function remoteConfigView(record: AgentRecord, target: ConfigTarget | undefined, policy: RemoteConfigPolicy, now: number): RemoteConfigView {
  const offer = record.configOffer;
  return {
    desired: target ? { config: target.configName, hash: target.config ? hex(target.config.hash) : null, via: target.via, rollout: stagedByView(target.rollout) } : null,
    state: configRolloutState(record.capabilities, target, record.remoteConfigStatus, offer, policy, now),
    offer: offer
      ? {
          config: offer.name,
          hash: hex(offer.hash),
          offeredAt: iso(offer.offeredAt),
          attempts: offer.attempts,
          acknowledged: offer.acknowledged,
          rolledBackAt: offer.rolledBackAt !== undefined ? iso(offer.rolledBackAt) : null,
          rollbackMessage: offer.rollbackMessage ?? null,
        }
      : null,
  };
}

export function packagesView(record: AgentRecord, desired: DesiredState): PackagesView {
  const target = desired.packages;
  const resolved = desired.packageSet;
  const people = (names: Readonly<Record<string, unknown>>) => Object.fromEntries(Object.entries(names).map(([n, v]) => [packageFolderOfName(n), v]));
  return {
    desired: target
      ? {
          via: target.via,
          versions: people(target.spec) as Record<string, string>,
          states: Object.fromEntries(Object.entries(target.spec).map(([name, version]) => [packageFolderOfName(name), packageRolloutState(record.capabilities, version, record.packages?.[name])])),
          errors: resolved && 'errors' in resolved ? resolved.errors : [],
          rollout: stagedByView(target.rollout),
        }
      : null,
    offer: record.packagesOffer ? { hash: hex(record.packagesOffer.hash), offeredAt: iso(record.packagesOffer.offeredAt), attempts: record.packagesOffer.attempts } : null,
    statuses: people(record.packages ?? {}) as Record<string, PackageStatusSummary>,
  };
}

export function connectionSettingsView(record: AgentRecord, target: SettingsTarget | undefined): ConnectionSettingsView {
  const { settingsOffer: offer, settingsApplied: applied, issuedCertificate: issued } = record;
  return {
    desired: target ? { settings: target.name, via: target.via, exists: target.spec !== undefined } : null,
    state: settingsRolloutState({ targeted: target?.spec !== undefined, reported: record.connectionSettingsStatus, offer }),
    offer: offer ? { hash: hex(offer.hash), offeredAt: iso(offer.offeredAt), attempts: offer.attempts, parts: offer.sent, heartbeatSeconds: offer.heartbeatSeconds ?? null } : null,
    applied: applied ? { hash: hex(applied.hash), at: iso(applied.at), assumed: applied.assumed, heartbeatSeconds: applied.heartbeatSeconds ?? null } : null,
    issuedCertificate: issued ? { fingerprint: issued.fingerprint, serialNumber: issued.serialNumber, issuedAt: iso(issued.issuedAt), notAfter: iso(issued.notAfter) } : null,
    problems: record.settingsProblems ?? [],
  };
}

function stagedByView(staged: StagedBy | undefined): StagedByView | null {
  return staged ? { id: staged.id, side: staged.side, state: staged.state } : null;
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

function configFilesView(config: EffectiveConfig): Record<string, ConfigFileView> {
  const files: Record<string, ConfigFileView> = {};
  for (const [name, file] of Object.entries(config.configMap?.configMap ?? {})) {
    const text = decodeUtf8(file.body);
    files[name] =
      text === undefined ? { contentType: file.contentType, encoding: 'base64', body: Buffer.from(file.body).toString('base64') } : { contentType: file.contentType, encoding: 'utf8', body: text };
  }
  return files;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function applyStatusView(status: ReportedApplyStatus, names: Record<number, string>): ApplyStatusView {
  const name = names[status.status] ?? String(status.status);
  return {
    hash: hex(status.hash),
    status: name.slice(name.indexOf('_') + 1),
    errorMessage: status.errorMessage,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
