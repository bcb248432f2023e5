import { AgentCapabilities, RemoteConfigStatuses, ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, RemoteConfigStatus, ConnectionSettingsStatus } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord, ReportedApplyStatus } from '../agent-record.js';
import { agentHas } from '../capabilities.js';
import { noteSettingsStatus } from '../connection-settings.js';
import { summarizePackageStatuses } from '../packages.js';
import type { FeatureOutcome, PollContext, PollEvent, RawSections } from '../poll-types.js';
import { boundedCustomCapabilities, boundedErrorMessage, boundedSelectorAttributes } from '../record-bounds.js';
import { noteRemoteConfigStatus } from '../remote-config.js';
import { encodeSection, reportedSection, sectionHash } from '../sections.js';
import type { SectionContent } from '../sections.js';
import { verdictEvents } from './full-state.js';
import type { SequenceVerdict } from '../sequence.js';

/*
 * What the agent reports about itself: status sections, apply statuses,
 * capabilities, and the component map the server asks for when it lacks it.
 */

export interface AppliedStatus {
  record: AgentRecord;
  sections: SectionContent[];
  /** Whether anything other than the sequence number and digest changed. */
  changed: boolean;
  /** The agent just went back from an offered configuration. */
  rolledBack: boolean;
  /** The agent just reported FAILED for a configuration. */
  configFailed: boolean;
}

/**
 * Status compression: a section the agent sent replaces the stored one as a
 * whole; a section it left out keeps its stored value.
 */
export function applyStatus(base: AgentRecord, message: AgentToServer, now: number, raw: RawSections = {}): AppliedStatus {
  const next: AgentRecord = { ...base, sections: { ...base.sections }, sectionIds: { ...base.sectionIds } };
  const sections: SectionContent[] = [];
  let changed = false;

  // The digest is stamped when the record is written (see finish): most polls write nothing.
  next.sequenceNum = message.sequenceNum;

  // capabilities MUST always be set; a zero is a client bug, not "can do nothing".
  if (message.capabilities !== 0n && message.capabilities !== base.capabilities) {
    next.capabilities = message.capabilities;
    changed = true;
  }

  if (message.agentDisconnect) {
    next.disconnectedAt = now;
    changed = true;
  } else if (base.disconnectedAt !== undefined) {
    delete next.disconnectedAt;
    changed = true;
  }

  const description = reportedSection(message, 'description');
  if (description) {
    const hash = sectionHash('description', description, raw.description);
    if (hash !== base.sections.description) {
      sections.push(encodeSection('description', description, hash, raw.description));
      next.sections.description = hash;
      const bounded = boundedSelectorAttributes(description);
      next.attributes = bounded.attributes;
      if (bounded.truncated) next.attributesTruncated = bounded.truncated;
      else delete next.attributesTruncated;
    }
  }

  const health = reportedSection(message, 'health');
  if (health) {
    const hash = sectionHash('health', health);
    if (hash !== base.sections.health) {
      sections.push(encodeSection('health', health, hash, raw.health));
      next.sections.health = hash;
      next.healthy = health.healthy;
    }
  }

  const effectiveConfig = reportedSection(message, 'effectiveConfig');
  if (effectiveConfig) {
    const hash = sectionHash('effectiveConfig', effectiveConfig);
    if (hash !== base.sections.effectiveConfig) {
      sections.push(encodeSection('effectiveConfig', effectiveConfig, hash, raw.effectiveConfig));
      next.sections.effectiveConfig = hash;
    }
  }

  const packageStatuses = reportedSection(message, 'packageStatuses');
  if (packageStatuses) {
    const hash = sectionHash('packageStatuses', packageStatuses);
    if (hash !== base.sections.packageStatuses) {
      sections.push(encodeSection('packageStatuses', packageStatuses, hash, raw.packageStatuses));
      next.sections.packageStatuses = hash;
    }
    const offered = b64(packageStatuses.serverProvidedAllPackagesHash);
    if (offered !== (base.serverProvidedAllPackagesHash ?? '')) {
      next.serverProvidedAllPackagesHash = offered;
      changed = true;
    }
    next.packages = summarizePackageStatuses(packageStatuses);
  }

  // Components are identified by the agent's own hash; the map itself is often
  // left out (hash only) and is stored only when the agent sends it.
  const components = reportedSection(message, 'availableComponents');
  if (components) {
    const hash = Buffer.from(components.hash).toString('base64url');
    if (hash !== base.availableComponentsHash) {
      next.availableComponentsHash = hash;
      changed = true;
    }
    if (Object.keys(components.components).length > 0 && hash !== base.sections.availableComponents) {
      sections.push(encodeSection('availableComponents', components, hash, raw.availableComponents));
      next.sections.availableComponents = hash;
    }
  }

  let rolledBack = false;
  let configFailed = false;
  if (message.remoteConfigStatus) {
    const status = applyStatusOf(message.remoteConfigStatus);
    if (!sameApplyStatus(status, base.remoteConfigStatus)) {
      next.remoteConfigStatus = status;
      changed = true;
      configFailed = status.status === RemoteConfigStatuses.RemoteConfigStatuses_FAILED;
    }
    const offer = noteRemoteConfigStatus(base.configOffer, status, now);
    if (offer !== base.configOffer && offer) {
      next.configOffer = offer;
      changed = true;
      rolledBack = offer.rolledBackAt !== undefined && base.configOffer?.rolledBackAt === undefined;
    }
  }

  if (message.connectionSettingsStatus) {
    const status = applyStatusOf(message.connectionSettingsStatus);
    if (!sameApplyStatus(status, base.connectionSettingsStatus)) {
      next.connectionSettingsStatus = status;
      changed = true;
    }
    const settings = noteSettingsStatus(base.settingsOffer, base.settingsApplied, status, now);
    if (settings && settings !== base.settingsApplied) next.settingsApplied = settings;
  }

  if (message.customCapabilities) {
    const { values, truncated } = boundedCustomCapabilities(message.customCapabilities.capabilities);
    if (JSON.stringify([values, truncated]) !== JSON.stringify([base.customCapabilities ?? [], base.customCapabilitiesTruncated])) {
      next.customCapabilities = values;
      if (truncated) next.customCapabilitiesTruncated = truncated;
      else delete next.customCapabilitiesTruncated;
      changed = true;
    }
  }

  return { record: next, sections, changed, rolledBack, configFailed };
}

function applyStatusOf(status: RemoteConfigStatus | ConnectionSettingsStatus): ReportedApplyStatus {
  const hash = 'lastRemoteConfigHash' in status ? status.lastRemoteConfigHash : status.lastConnectionSettingsHash;
  return { hash: b64(hash), status: status.status, errorMessage: boundedErrorMessage(status.errorMessage) };
}

function sameApplyStatus(a: ReportedApplyStatus, b: ReportedApplyStatus | undefined): boolean {
  return b !== undefined && a.hash === b.hash && a.status === b.status && a.errorMessage === b.errorMessage;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** What the status report itself tells metrics and logs. */
export function statusEvents(applied: AppliedStatus, message: AgentToServer, verdict: SequenceVerdict): PollEvent[] {
  const events: PollEvent[] = [...verdictEvents(verdict)];
  if (applied.sections.length > 0 || applied.changed) events.push('status-changed');
  if (message.agentDisconnect) events.push('disconnected');
  if (applied.rolledBack) events.push('config-rolled-back');
  if (applied.configFailed) events.push('config-failed');
  return events;
}

/** Asks once for the component map of a hash the server has not seen in full. */
export function requestComponents({ record: next }: PollContext): FeatureOutcome | undefined {
  const hash = next.availableComponentsHash;
  if (hash === undefined || !agentHas(next.capabilities, AgentCapabilities.AgentCapabilities_ReportsAvailableComponents)) return undefined;
  if (next.sections.availableComponents === hash || next.componentsRequested === hash) return undefined;
  return {
    flags: BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents),
    changes: { componentsRequested: hash },
    events: ['components-requested'],
  };
}
