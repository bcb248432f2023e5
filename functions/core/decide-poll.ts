import { create } from '@bufbuild/protobuf';
import {
  AgentCapabilities,
  AgentRemoteConfigSchema,
  AgentToServerFlags,
  RemoteConfigStatuses,
  ServerToAgentFlags,
  ServerToAgentSchema,
} from '../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, RemoteConfigStatus, ConnectionSettingsStatus, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord, ReportedApplyStatus } from './agent-record.js';
import { selectorAttributes } from './attributes.js';
import { agentHas, serverCapabilities } from './capabilities.js';
import type { ServerFeatures } from './capabilities.js';
import { ProtocolError } from './errors.js';
import { instanceUidFromText, instanceUidToText, isInstanceUidBytes } from './instance-uid.js';
import { gateReply } from './reply-gates.js';
import { encodeSection, reportedSection, sectionHash, sectionId } from './sections.js';
import type { SectionContent, SectionKind, SectionRef } from './sections.js';
import { classifySequence } from './sequence.js';
import type { SequenceVerdict } from './sequence.js';
import { EMPTY_FLEET } from './fleet.js';
import type { ConfigMeta, FleetState } from './fleet.js';
import { configToOffer, DEFAULT_REMOTE_CONFIG_POLICY, noteRemoteConfigStatus, recordOffer } from './remote-config.js';
import type { RemoteConfigPolicy } from './remote-config.js';
import { resolveConfigTarget } from './targeting.js';

export interface CoreOptions {
  features: ServerFeatures;
  /** A heartbeat that changes nothing refreshes last-seen at most this often. */
  lastSeenRefreshMs: number;
  /** Shortest poll interval an agent is expected to use (see sequence.ts). */
  minPollIntervalMs: number;
  /** ReportFullState is not asked again within this time, except for an unknown agent. */
  fullStateRetryMs: number;
  /** How long a silent agent's record is kept before the store may delete it. */
  recordRetentionMs: number;
  /** How long a temporary uid keeps pointing to the uid assigned to it. */
  redirectRetentionMs: number;
  remoteConfig: RemoteConfigPolicy;
}

export const DEFAULT_CORE_OPTIONS: CoreOptions = {
  features: { remoteConfig: true, packages: false, connectionSettings: false, connectionSettingsRequests: false },
  lastSeenRefreshMs: 5 * 60_000,
  minPollIntervalMs: 15_000,
  fullStateRetryMs: 10 * 60_000,
  recordRetentionMs: 30 * 24 * 3_600_000,
  redirectRetentionMs: 24 * 3_600_000,
  remoteConfig: DEFAULT_REMOTE_CONFIG_POLICY,
};

export interface PollInput {
  /** The stored record of `message.instanceUid`, read strongly consistent; undefined when none. */
  record: AgentRecord | undefined;
  message: AgentToServer;
  /** Content id of the request body, to recognise retries. */
  messageDigest: string;
  now: number;
  /** Makes a fresh instance uid (canonical text), used only when one is needed. */
  newInstanceUid: () => string;
  options: CoreOptions;
  /** The fleet's desired state (configurations and assignments); nothing is offered without it. */
  fleet?: FleetState | undefined;
  /** Config hashes that must not be offered in this reply (their bodies cannot be served right now). */
  withheldConfigs?: ReadonlySet<string> | undefined;
  /**
   * Unique to this decision: stamps the section items it writes. Concurrent
   * polls for one agent must use different ids; without one, the record's next
   * version number is used.
   */
  writeId?: string | undefined;
}

/** A record to store, conditional on the version that was read (0: must not exist). */
export interface RecordWrite {
  record: AgentRecord;
  expectedVersion: number;
}

export interface SectionWrite {
  instanceUid: string;
  /** The item's id (content hash and the writing poll's stamp). */
  id: string;
  content: SectionContent;
}

/** Things that happened, for metrics and logs; they change nothing themselves. */
export type PollEvent =
  | 'new-agent'
  | 'duplicate'
  | 'sequence-gap'
  | 'sequence-reset'
  | 'full-state-requested'
  | 'disconnected'
  | 'instance-uid-assigned'
  | 'status-changed'
  | 'config-offered'
  | 'config-failed'
  | 'config-rolled-back';

export interface PollDecision {
  reply: ServerToAgent;
  /** Written in order after the sections; the first one is the commit point. */
  records: RecordWrite[];
  /** Section contents to store before the records refer to them. */
  sections: SectionWrite[];
  /** Sections that committed records no longer refer to, deleted with the section writes. */
  sectionDeletes: Array<SectionRef & { instanceUid: string }>;
  /** Sections stored under another uid that the new record refers to (uid reassignment). */
  copySections?: { from: string; to: string; sections: SectionRef[] };
  /**
   * The configuration whose body the reply must carry: the reply holds its
   * hash, and the caller fills in the files (they live in object storage).
   */
  attachConfig?: ConfigMeta;
  events: PollEvent[];
}

/** Rejects messages the protocol forbids before any storage is touched. */
export function validateAgentToServer(message: AgentToServer): void {
  if (!isInstanceUidBytes(message.instanceUid)) {
    throw new ProtocolError(
      'invalid-instance-uid',
      `instance_uid must be 16 bytes, got ${message.instanceUid.length}`,
      message.instanceUid.length > 0 ? message.instanceUid : undefined,
    );
  }
}

/**
 * Decides the reply to one AgentToServer and the changes to the stored state.
 * Pure: everything it needs comes in through `input`, so that any number of
 * stateless function instances make the same decision for the same inputs.
 */
export function decidePoll(input: PollInput): PollDecision {
  const { message, options, now } = input;
  validateAgentToServer(message);
  const uid = instanceUidToText(message.instanceUid);
  const events: PollEvent[] = [];

  // A retried RequestInstanceUid: the uid was assigned already; answer the same.
  if (input.record?.movedTo && requestsNewUid(message)) {
    events.push('duplicate');
    const reply = successReply(message, options);
    reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(input.record.movedTo)! };
    if (input.record.fullStateRequestedSeq === message.sequenceNum) reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    return { reply: gateReply(reply, input.record), records: [], sections: [], sectionDeletes: [], events };
  }

  // A redirect record is not the agent's state: a message without the flag starts afresh.
  const stored = input.record?.movedTo ? undefined : input.record;
  const verdict = classifySequence(stored, message.sequenceNum, input.messageDigest, now, options.minPollIntervalMs);

  if (verdict === 'duplicate' && stored) {
    events.push('duplicate');
    const reply = successReply(message, options);
    if (stored.fullStateRequestedSeq === message.sequenceNum) reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    // The retried message's reply carried an offer: carry it again (the first reply was lost).
    const offer = stored.configOffer;
    const reoffer = offer?.offeredSeq === message.sequenceNum
      ? [...(input.fleet ?? EMPTY_FLEET).configs.values()].find((c) => c.hash === offer.hash && !input.withheldConfigs?.has(c.hash))
      : undefined;
    if (reoffer) reply.remoteConfig = remoteConfigReply(reoffer);
    const records = now - stored.lastSeenAt >= options.lastSeenRefreshMs ? [refreshLastSeen(stored, now, options)] : [];
    return { reply: gateReply(reply, stored), records, sections: [], sectionDeletes: [], events, ...(reoffer && reply.remoteConfig ? { attachConfig: reoffer } : {}) };
  }

  const base = stored ?? emptyRecord(uid, now, input.record?.version ?? 0);
  const applied = applyStatus(base, message, input.messageDigest, now);
  const fleet = input.fleet ?? EMPTY_FLEET;
  const next = applied.record;
  const reply = successReply(message, options);
  events.push(...verdictEvents(verdict));
  if (applied.sections.length > 0 || applied.changed) events.push('status-changed');
  if (message.agentDisconnect) events.push('disconnected');

  if (applied.rolledBack) events.push('config-rolled-back');
  if (applied.configFailed) events.push('config-failed');

  const attachConfig = options.features.remoteConfig
    ? configToOffer({
        capabilities: next.capabilities,
        reported: next.remoteConfigStatus,
        offer: next.configOffer,
        target: resolveConfigTarget(next, fleet),
        now,
        policy: options.remoteConfig,
        withheld: input.withheldConfigs,
      })
    : undefined;
  if (attachConfig) {
    reply.remoteConfig = remoteConfigReply(attachConfig);
    next.configOffer = recordOffer(next.configOffer, attachConfig, now, message.sequenceNum);
    events.push('config-offered');
  }

  if (shouldRequestFullState(verdict, base, message, next.capabilities, now, options)) {
    reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    next.fullStateRequestedAt = now;
    next.fullStateRequestedSeq = message.sequenceNum;
    events.push('full-state-requested');
  }

  // A gap is not written unless full state is asked for: an agent polling faster
  // than expected would otherwise cause a write every other poll. What makes a
  // good new baseline is written even when it changed nothing: a reset counter,
  // a full report after a gap, and the answer to a full-state request.
  const answersFullStateRequest = base.fullStateRequestedSeq !== undefined &&
    message.sequenceNum === base.fullStateRequestedSeq + 1n;
  const rebaseline = verdict === 'reset' || answersFullStateRequest || (verdict === 'gap' && isFullReport(message, next.capabilities));
  const mustWrite = !stored || applied.changed || applied.sections.length > 0 || attachConfig !== undefined ||
    next.fullStateRequestedAt !== base.fullStateRequestedAt || rebaseline ||
    now - base.lastSeenAt >= options.lastSeenRefreshMs;

  const attach = attachConfig && { attachConfig };
  if (requestsNewUid(message)) {
    return { ...assignNewUid({ uid, base, next, reply, applied, input, events }), ...attach };
  }

  const stamp = input.writeId ?? `v${(input.record?.version ?? 0) + 1}`;
  const sections = placeSections(uid, applied.sections, stamp, next);
  const retired = retireSections(base, sections);
  if (retired.superseded.length > 0) next.supersededSections = retired.superseded;
  else delete next.supersededSections;
  const sectionDeletes = retired.deletes.map((ref) => ({ ...ref, instanceUid: uid }));
  const records = mustWrite ? [{ record: finish(next, now, options), expectedVersion: input.record?.version ?? 0 }] : [];
  return { reply: gateReply(reply, next), records, sections, sectionDeletes, events, ...attach };
}

/** Gives each section this decision writes its own item id, and points the record at it. */
function placeSections(instanceUid: string, contents: readonly SectionContent[], stamp: string, next: AgentRecord): SectionWrite[] {
  return contents.map((content) => {
    const id = sectionId(content.hash, stamp);
    next.sectionIds = { ...next.sectionIds, [content.kind]: id };
    return { instanceUid, id, content };
  });
}

/**
 * Which superseded sections this poll may delete (those a committed record
 * already stopped referring to), and which it supersedes itself (deleted by a
 * later poll, after this one's record is committed). Item ids are unique per
 * writing poll, so a delete never hits an item another poll wrote.
 */
function retireSections(base: AgentRecord, written: readonly SectionWrite[]): { deletes: SectionRef[]; superseded: SectionRef[] } {
  const pending = base.supersededSections ?? [];
  if (written.length === 0) return { deletes: [], superseded: pending };
  return {
    deletes: pending,
    superseded: written.flatMap((w) => {
      const old = base.sectionIds[w.content.kind];
      return old !== undefined ? [{ kind: w.content.kind, id: old }] : [];
    }),
  };
}

function requestsNewUid(message: AgentToServer): boolean {
  return (message.flags & BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid)) !== 0n;
}

function verdictEvents(verdict: SequenceVerdict): PollEvent[] {
  switch (verdict) {
    case 'first':
      return ['new-agent'];
    case 'gap':
      return ['sequence-gap'];
    case 'reset':
      return ['sequence-reset'];
    default:
      return [];
  }
}

/**
 * The agent gets a new uid: its state moves to the new uid, and the temporary
 * uid's record keeps a pointer so that a retry gets the same answer. The
 * pointer is written first: it is what makes the assignment stable.
 */
function assignNewUid(args: {
  uid: string;
  base: AgentRecord;
  next: AgentRecord;
  reply: ServerToAgent;
  applied: AppliedStatus;
  input: PollInput;
  events: PollEvent[];
}): PollDecision {
  const { uid, base, next, reply, applied, input, events } = args;
  const { now, options } = input;
  const newUid = input.newInstanceUid();
  events.push('instance-uid-assigned');
  reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(newUid)! };

  const redirect = finish({ ...next, movedTo: newUid }, now, options);
  redirect.expiresAt = Math.floor((now + options.redirectRetentionMs) / 1000);
  const moved = finish({ ...next, instanceUid: newUid, version: 0, sectionIds: { ...next.sectionIds } }, now, options);
  delete moved.supersededSections;
  const written = placeSections(newUid, applied.sections, input.writeId ?? 'v1', moved);
  redirect.sections = { ...base.sections };
  redirect.sectionIds = { ...base.sectionIds };
  // Sections the temporary uid had stored before and that this message did not replace.
  const carried = (Object.entries(base.sectionIds) as Array<[SectionKind, string]>)
    .filter(([kind]) => !applied.sections.some((s) => s.kind === kind))
    .map(([kind, id]) => ({ kind, id }));
  return {
    reply: gateReply(reply, next),
    records: [
      { record: redirect, expectedVersion: input.record?.version ?? 0 },
      { record: moved, expectedVersion: 0 },
    ],
    sections: written,
    sectionDeletes: [],
    ...(carried.length > 0 ? { copySections: { from: uid, to: newUid, sections: carried } } : {}),
    events,
  };
}

function emptyRecord(uid: string, now: number, version: number): AgentRecord {
  return {
    instanceUid: uid,
    version,
    sequenceNum: 0n,
    lastMessageDigest: '',
    capabilities: 0n,
    firstSeenAt: now,
    lastSeenAt: now,
    attributes: {},
    sections: {},
    sectionIds: {},
    expiresAt: 0,
  };
}

function refreshLastSeen(record: AgentRecord, now: number, options: CoreOptions): RecordWrite {
  return { record: finish({ ...record }, now, options), expectedVersion: record.version };
}

/** Stamps what every write carries: the next version, last-seen and the expiry. */
function finish(record: AgentRecord, now: number, options: CoreOptions): AgentRecord {
  record.version += 1;
  record.lastSeenAt = now;
  record.expiresAt = Math.floor((now + options.recordRetentionMs) / 1000);
  return record;
}

interface AppliedStatus {
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
function applyStatus(base: AgentRecord, message: AgentToServer, digest: string, now: number): AppliedStatus {
  const next: AgentRecord = { ...base, sections: { ...base.sections }, sectionIds: { ...base.sectionIds } };
  const sections: SectionContent[] = [];
  let changed = false;

  next.sequenceNum = message.sequenceNum;
  next.lastMessageDigest = digest;

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
    const hash = sectionHash('description', description);
    if (hash !== base.sections.description) {
      sections.push(encodeSection('description', description, hash));
      next.sections.description = hash;
      next.attributes = selectorAttributes(description);
    }
  }

  const health = reportedSection(message, 'health');
  if (health) {
    const hash = sectionHash('health', health);
    if (hash !== base.sections.health) {
      sections.push(encodeSection('health', health, hash));
      next.sections.health = hash;
      next.healthy = health.healthy;
    }
  }

  const effectiveConfig = reportedSection(message, 'effectiveConfig');
  if (effectiveConfig) {
    const hash = sectionHash('effectiveConfig', effectiveConfig);
    if (hash !== base.sections.effectiveConfig) {
      sections.push(encodeSection('effectiveConfig', effectiveConfig, hash));
      next.sections.effectiveConfig = hash;
    }
  }

  const packageStatuses = reportedSection(message, 'packageStatuses');
  if (packageStatuses) {
    const hash = sectionHash('packageStatuses', packageStatuses);
    if (hash !== base.sections.packageStatuses) {
      sections.push(encodeSection('packageStatuses', packageStatuses, hash));
      next.sections.packageStatuses = hash;
    }
    const offered = b64(packageStatuses.serverProvidedAllPackagesHash);
    if (offered !== (base.serverProvidedAllPackagesHash ?? '')) {
      next.serverProvidedAllPackagesHash = offered;
      changed = true;
    }
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
      sections.push(encodeSection('availableComponents', components, hash));
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
  }

  if (message.customCapabilities) {
    const list = [...message.customCapabilities.capabilities];
    if (JSON.stringify(list) !== JSON.stringify(base.customCapabilities ?? [])) {
      next.customCapabilities = list;
      changed = true;
    }
  }

  return { record: next, sections, changed, rolledBack, configFailed };
}

function applyStatusOf(status: RemoteConfigStatus | ConnectionSettingsStatus): ReportedApplyStatus {
  const hash = 'lastRemoteConfigHash' in status ? status.lastRemoteConfigHash : status.lastConnectionSettingsHash;
  return { hash: b64(hash), status: status.status, errorMessage: status.errorMessage };
}

function sameApplyStatus(a: ReportedApplyStatus, b: ReportedApplyStatus | undefined): boolean {
  return b !== undefined && a.hash === b.hash && a.status === b.status && a.errorMessage === b.errorMessage;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * Whether the message carries every section the agent's capabilities promise.
 * Only then can the server skip asking for the full state after a gap.
 */
export function isFullReport(message: AgentToServer, capabilities: bigint): boolean {
  if (!message.agentDescription) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsHealth) && !message.health) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsEffectiveConfig) && !message.effectiveConfig) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig) && !message.remoteConfigStatus) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsPackageStatuses) && !message.packageStatuses) return false;
  return true;
}

/**
 * ReportFullState is asked for when the server's view may be incomplete (an
 * unknown agent, a gap or a counter reset) and the message itself is not a
 * full report. Apart from an unknown
 * agent it is asked at most once per `fullStateRetryMs`, so that a client that
 * misnumbers its messages cannot make every poll a full upload.
 */
function shouldRequestFullState(
  verdict: SequenceVerdict,
  base: AgentRecord,
  message: AgentToServer,
  capabilities: bigint,
  now: number,
  options: CoreOptions,
): boolean {
  const suspect = verdict === 'first' || verdict === 'gap' || verdict === 'reset';
  if (!suspect || isFullReport(message, capabilities)) return false;
  if (verdict === 'first') return true;
  return base.fullStateRequestedAt === undefined || now - base.fullStateRequestedAt >= options.fullStateRetryMs;
}

function remoteConfigReply(config: ConfigMeta): ServerToAgent['remoteConfig'] {
  // The files are filled in by the caller from object storage (see PollDecision.attachConfig).
  return create(AgentRemoteConfigSchema, { configHash: new Uint8Array(Buffer.from(config.hash, 'base64')) });
}

/** The reply every successful poll starts from: the uid echoed and our capabilities. */
export function successReply(message: AgentToServer, options: CoreOptions): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid: message.instanceUid,
    capabilities: serverCapabilities(options.features),
  });
}
