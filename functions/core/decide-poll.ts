import { create } from '@bufbuild/protobuf';
import {
  AgentCapabilities,
  AgentRemoteConfigSchema,
  AgentToServerFlags,
  CommandType,
  CustomCapabilitiesSchema,
  CustomMessageSchema,
  DownloadableFileSchema,
  PackageAvailableSchema,
  PackagesAvailableSchema,
  RemoteConfigStatuses,
  ServerToAgentCommandSchema,
  ServerToAgentFlags,
  ServerToAgentSchema,
} from '../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, CustomMessage, RemoteConfigStatus, ConnectionSettingsStatus, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord, ReportedApplyStatus } from './agent-record.js';
import { boundedCustomCapabilities, boundedErrorMessage, boundedSelectorAttributes, RECORD_BOUNDS, recordFits } from './record-bounds.js';
import { agentHas, serverCapabilities } from './capabilities.js';
import type { ServerFeatures } from './capabilities.js';
import { ProtocolError } from './errors.js';
import { instanceUidFromText, instanceUidToText, isInstanceUidBytes } from './instance-uid.js';
import { gateReply } from './reply-gates.js';
import { encodeSection, reportedSection, sectionHash, sectionId } from './sections.js';
import type { SectionContent, SectionKind, SectionRef } from './sections.js';
import { classifySequence, explainJump, shouldLogNoisy } from './sequence.js';
import type { JumpExplanation, SequenceVerdict } from './sequence.js';
import { EMPTY_FLEET } from './fleet.js';
import type { ConfigMeta, FleetState } from './fleet.js';
import { configToOffer, DEFAULT_REMOTE_CONFIG_POLICY, noteRemoteConfigStatus, recordOffer } from './remote-config.js';
import type { RemoteConfigPolicy } from './remote-config.js';
import { resolveConfigTarget, resolvePackagesTarget } from './targeting.js';

import { dueCommand, INBOX_LIMITS, nextMessage } from './agent-commands.js';
import type { ReceivedMessage } from './agent-commands.js';
import { duplicateReason, identityOf, MAX_DUPLICATE_EVENTS, observe, startTimeOf } from './duplicates.js';
import type { Observation } from './duplicates.js';
import {
  DEFAULT_PACKAGES_POLICY,
  packageHash,
  packageType,
  recordPackagesOffer,
  resolvePackageSet,
  shouldOfferPackages,
  summarizePackageStatuses,
} from './packages.js';
import type { PackagesPolicy, ResolvedPackageSet } from './packages.js';
import { contentId, stableJson } from './canonical-hash.js';
import {
  assumeApplied,
  awaitedInterval,
  DEFAULT_SETTINGS_POLICY,
  desiredSettings,
  NO_CONNECTION_CONTEXT,
  noteSettingsStatus,
  recordSettingsOffer,
  reportsSettingsStatus,
  settingsOffers,
  settingsToOffer,
  takesConnectionSettings,
} from './connection-settings.js';
import type { ConnectionContext, DesiredSettings, IssuedCertificateRecord, SettingsPolicy } from './connection-settings.js';
import { pendingWork } from './pending-work.js';
import { resolveSettingsTarget } from './targeting.js';

export interface CoreOptions {
  features: ServerFeatures;
  /** A heartbeat that changes nothing refreshes last-seen at most this often. */
  lastSeenRefreshMs: number;
  /** Shortest poll interval an agent is expected to use (see sequence.ts). */
  minPollIntervalMs: number;
  /** ReportFullState is not asked again within this time while a request is unanswered, except for an unknown agent. */
  fullStateRetryMs: number;
  /** A gap or reset of one agent is logged at most once in this time (the rest are counted only). */
  noisyEventLogWindowMs: number;
  /** How long a silent agent's record is kept before the store may delete it. */
  recordRetentionMs: number;
  /** How long a temporary uid keeps pointing to the uid assigned to it. */
  redirectRetentionMs: number;
  remoteConfig: RemoteConfigPolicy;
  packages: PackagesPolicy;
  /** Connection settings offers and the poll intervals the server asks for. */
  settings: SettingsPolicy;
  /** The server's own custom capabilities, announced to every agent once (and after it restarts). */
  serverCustomCapabilities: readonly string[];
  /** Window within which flip-flopping identity signals reveal two agents sharing one uid (0: off). */
  duplicateWindowMs: number;
}

export const DEFAULT_CORE_OPTIONS: CoreOptions = {
  features: { remoteConfig: true, packages: true, connectionSettings: true, connectionSettingsRequests: false },
  lastSeenRefreshMs: 24 * 3_600_000,
  minPollIntervalMs: 15_000,
  fullStateRetryMs: 10 * 60_000,
  noisyEventLogWindowMs: 10 * 60_000,
  recordRetentionMs: 30 * 24 * 3_600_000,
  redirectRetentionMs: 24 * 3_600_000,
  remoteConfig: DEFAULT_REMOTE_CONFIG_POLICY,
  packages: DEFAULT_PACKAGES_POLICY,
  settings: DEFAULT_SETTINGS_POLICY,
  serverCustomCapabilities: [],
  duplicateWindowMs: 10 * 60_000,
};

export interface PollInput {
  /** The stored record of `message.instanceUid`, read strongly consistent; undefined when none. */
  record: AgentRecord | undefined;
  message: AgentToServer;
  /**
   * Content id of the request body, to recognise retries: a string, or a
   * function computing it, called only when the decision needs it.
   */
  messageDigest: string | (() => string);
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
  writeId?: string | (() => string) | undefined;
  /** What connection settings offers need beyond the stored state (the server's URL, the agent's credential, certificates). */
  connection?: ConnectionContext | undefined;
  /** A certificate just signed for the agent's CSR in this message. */
  issuedCertificate?: IssuedCertificateRecord | undefined;
  /** The sections' bytes as the request carried them (large requests), stored as they are instead of encoded again. */
  rawSections?: RawSections | undefined;
  /**
   * A newer message from this sender was stored while this one was in flight
   * (see `overtaken` in sequence.ts). Its lower number is then reordering,
   * not a second process counting on its own: it is applied like a reset, but
   * says nothing about duplicate uids.
   */
  overtaken?: boolean | undefined;
}

type RawSections = Partial<Record<SectionKind, Uint8Array>>;

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
  | 'config-rolled-back'
  | 'packages-offered'
  | 'command-delivered'
  | 'command-expired'
  | 'message-delivered'
  | 'message-received'
  | 'components-requested'
  | 'settings-offered'
  | 'certificate-issued'
  | 'duplicate-uid';

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
  /**
   * The package set the reply offers: the reply holds the hashes, and the
   * caller adds a freshly signed download URL to each file.
   */
  attachPackages?: ResolvedPackageSet;
  /** A custom message the agent sent, to keep in its bounded inbox (numbered from 1). */
  inbox?: { instanceUid: string; index: number; message: ReceivedMessage };
  events: PollEvent[];
  /** Events of `events` already logged for this agent within the log window: counted, not logged again. */
  quietEvents?: PollEvent[];
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
  const digest = lazily(input.messageDigest);
  const stampOf = lazily(input.writeId ?? `v${(input.record?.version ?? 0) + 1}`);
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
  const jump = explainJump(stored, message.sequenceNum, now, classifySequence(stored, message.sequenceNum, digest, now, pollIntervalFloor(stored, options)));
  const verdict = jump.verdict;

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
    const repackage = stored.packagesOffer?.offeredSeq === message.sequenceNum ? reofferedPackages(stored, input) : undefined;
    if (repackage) reply.packagesAvailable = packagesReply(repackage);
    const resettle = stored.settingsOffer?.offeredSeq === message.sequenceNum ? reofferedSettings(stored, input) : undefined;
    if (resettle) reply.connectionSettings = resettle;
    const records = now - stored.lastSeenAt >= options.lastSeenRefreshMs ? [refreshLastSeen(stored, now, options)] : [];
    const gated = gateReply(reply, stored);
    return {
      reply: gated,
      records,
      sections: [],
      sectionDeletes: [],
      events,
      ...(reoffer && gated.remoteConfig ? { attachConfig: reoffer } : {}),
      ...(repackage && gated.packagesAvailable ? { attachPackages: repackage } : {}),
    };
  }

  const base = stored ?? emptyRecord(uid, now, input.record?.version ?? 0);
  const seen = observation(message, verdict, stored, now);
  const outOfOrder = verdict === 'reset' && input.overtaken === true;
  const duplicate = stored && !outOfOrder && options.duplicateWindowMs > 0
    ? duplicateReason(stored.fingerprint ?? {}, seen, options.duplicateWindowMs)
    : undefined;
  if (stored && duplicate) return splitDuplicate({ stored, input, seen, reason: duplicate, events });

  const applied = applyStatus(base, message, now, input.rawSections);
  const fleet = input.fleet ?? EMPTY_FLEET;
  const next = applied.record;
  if (!outOfOrder) next.fingerprint = observe(base.fingerprint ?? {}, seen, options.duplicateWindowMs);
  noteCredentials(next, verdict, input, events);
  noteCadence(next, jump);
  const reply = successReply(message, options);
  events.push(...verdictEvents(verdict));
  const quietEvents = noteNoisyEvents(next, base, verdict, input);
  if (applied.sections.length > 0 || applied.changed) events.push('status-changed');
  if (message.agentDisconnect) events.push('disconnected');
  if (applied.rolledBack) events.push('config-rolled-back');
  if (applied.configFailed) events.push('config-failed');

  // A full report answers an outstanding request: the retry throttle holds
  // only while a request is unanswered, so a later gap is asked about again.
  const answersFullStateRequest = base.fullStateRequestedSeq !== undefined &&
    message.sequenceNum === base.fullStateRequestedSeq + 1n;
  if (answersFullStateRequest || isFullReport(message, next.capabilities)) {
    delete next.fullStateRequestedAt;
    delete next.fullStateRequestedSeq;
  }
  if (shouldRequestFullState(verdict, next, message, next.capabilities, now, options)) {
    reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    next.fullStateRequestedAt = now;
    next.fullStateRequestedSeq = message.sequenceNum;
    events.push('full-state-requested');
  }

  // A queued restart travels alone, so it waits while the reply must carry a
  // full-state request or a new uid.
  if (next.pendingCommand && now >= next.pendingCommand.expiresAt) {
    next.lastCommand = { type: next.pendingCommand.type, id: next.pendingCommand.id, queuedAt: next.pendingCommand.queuedAt, expiredAt: now };
    delete next.pendingCommand;
    events.push('command-expired');
  }
  const command = reply.flags === 0n && !requestsNewUid(message) ? dueCommand(next.pendingCommand, next.capabilities, now) : undefined;

  let attachConfig: ConfigMeta | undefined;
  let attachPackages: ResolvedPackageSet | undefined;
  if (command) {
    reply.command = create(ServerToAgentCommandSchema, { type: CommandType.CommandType_Restart });
    next.lastCommand = { type: command.type, id: command.id, queuedAt: command.queuedAt, deliveredAt: now };
    delete next.pendingCommand;
    events.push('command-delivered');
  } else {
    attachConfig = offerConfig(next, reply, fleet, input, events);
    attachPackages = offerPackages(next, reply, fleet, input, events);
    deliverMessages(next, reply, verdict, input, events);
    requestComponents(next, reply, events);
    offerSettings(next, reply, fleet, input, events);
  }

  if (message.customMessage) {
    next.inboxCount = (base.inboxCount ?? 0) + 1;
    events.push('message-received');
  }
  const inbox = message.customMessage && {
    instanceUid: uid,
    index: next.inboxCount!,
    message: receivedMessage(message.customMessage, now),
  };

  // A gap is not written unless full state is asked for, a cadence learned, or
  // the gap logged (once per window): an agent polling faster than expected
  // would otherwise cause a write every other poll. What makes a good new baseline is written even when it changed nothing: a reset counter,
  // a full report after a gap, and the answer to a full-state request.
  const rebaseline = verdict === 'reset' || answersFullStateRequest || (verdict === 'gap' && isFullReport(message, next.capabilities));
  const nextState = comparable(next);
  const mustWrite = !stored || applied.sections.length > 0 || rebaseline || comparable(base) !== nextState ||
    now - base.lastSeenAt >= options.lastSeenRefreshMs;
  if (mustWrite && !recordFits(nextState)) {
    throw new ProtocolError('state-too-large', `the agent's state would take ${nextState.length} bytes, over the ${RECORD_BOUNDS.recordBytes} a record holds; report less (fewer packages or shorter texts)`, message.instanceUid);
  }

  const attach: Partial<PollDecision> = {
    ...(quietEvents.length > 0 ? { quietEvents } : {}),
    ...(attachConfig ? { attachConfig } : {}),
    ...(attachPackages ? { attachPackages } : {}),
    ...(inbox ? { inbox } : {}),
  };
  if (requestsNewUid(message)) {
    const assigned = assignNewUid({ uid, base, next, reply, applied, input, events });
    // The agent's messages are kept under the uid it is known by from now on.
    const movedUid = assigned.records.at(-1)!.record.instanceUid;
    return { ...assigned, ...attach, ...(inbox ? { inbox: { ...inbox, instanceUid: movedUid } } : {}) };
  }

  const sections = applied.sections.length > 0 ? placeSections(uid, applied.sections, stampOf(), next) : [];
  const retired = retireSections(base, sections);
  if (retired.superseded.length > 0) next.supersededSections = retired.superseded;
  else delete next.supersededSections;
  const sectionDeletes = retired.deletes.map((ref) => ({ ...ref, instanceUid: uid }));
  const records = mustWrite ? [{ record: finish(next, now, options, digest), expectedVersion: input.record?.version ?? 0 }] : [];
  return { reply: gateReply(reply, next), records, sections, sectionDeletes, events, ...attach };
}

function observation(message: AgentToServer, verdict: SequenceVerdict, stored: AgentRecord | undefined, now: number): Observation {
  return {
    identity: message.agentDescription ? identityOf(message.agentDescription) : undefined,
    startTime: message.health ? startTimeOf(message.health) : undefined,
    sequenceNum: message.sequenceNum,
    storedSeq: stored?.sequenceNum,
    reset: verdict === 'reset',
    gap: verdict === 'gap',
    now,
  };
}

/**
 * The shortest interval between this agent's polls the server expects: the
 * configured floor, or the interval the server itself asked for, or the
 * cadence the agent has shown, whichever is shortest.
 */
function pollIntervalFloor(stored: AgentRecord | undefined, options: CoreOptions): number {
  const asked = stored?.heartbeatSeconds;
  const floor = asked !== undefined && asked > 0 ? Math.min(options.minPollIntervalMs, asked * 1000) : options.minPollIntervalMs;
  return Math.min(floor, stored?.pollCadenceMs ?? floor);
}

/** Keeps what the sequence jump showed about the agent's cadence (see explainJump). */
function noteCadence(next: AgentRecord, jump: JumpExplanation): void {
  if (jump.cadenceMs !== undefined) {
    next.pollCadenceMs = jump.cadenceMs;
    delete next.cadenceCandidateMs;
  } else if (jump.candidateMs !== undefined) {
    next.cadenceCandidateMs = jump.candidateMs;
  }
}

/**
 * Gaps and resets are logged once per agent per window; the ones within the
 * window are returned, to be counted only. Logging one stamps the record,
 * which costs at most one write per window for an agent that keeps misnumbering.
 */
function noteNoisyEvents(next: AgentRecord, base: AgentRecord, verdict: SequenceVerdict, input: PollInput): PollEvent[] {
  const noisy = verdictEvents(verdict).filter((e) => e === 'sequence-gap' || e === 'sequence-reset');
  if (noisy.length === 0) return [];
  if (!shouldLogNoisy(base, input.now, input.options.noisyEventLogWindowMs)) return noisy;
  next.noisyEventLoggedAt = input.now;
  return [];
}

/**
 * Records which token the agent authenticated with and a certificate signed
 * for it in this message. An agent that restarted and does not report its
 * connection settings status may have lost what it was sent: it is sent again.
 */
function noteCredentials(next: AgentRecord, verdict: SequenceVerdict, input: PollInput, events: PollEvent[]): void {
  const tokenName = input.connection?.presented?.tokenName;
  if (tokenName !== undefined && tokenName !== next.tokenName) next.tokenName = tokenName;
  const issued = input.issuedCertificate;
  if (issued && issued.fingerprint !== next.issuedCertificate?.fingerprint) {
    next.issuedCertificate = issued;
    events.push('certificate-issued');
  }
  if (verdict === 'reset' && !reportsSettingsStatus(next.capabilities)) {
    delete next.settingsApplied;
    delete next.settingsOffer;
  }
}

/**
 * The connection settings the agent should have now, the poll interval
 * included: the pending interval while work is pending for the agent; else
 * the interval of an offer it has not answered yet, while it has not; else
 * the idle interval. A settings change itself needs no faster polling: it
 * travels in the reply to the poll that finds it.
 */
function currentSettings(record: AgentRecord, input: PollInput): DesiredSettings {
  const { options, now } = input;
  const fleet = input.fleet ?? EMPTY_FLEET;
  const base = desiredSettings({
    capabilities: record.capabilities,
    spec: resolveSettingsTarget(record, fleet)?.spec,
    issued: record.issuedCertificate,
    context: input.connection ?? NO_CONNECTION_CONTEXT,
    heartbeat: options.settings.heartbeat,
  });
  if (pendingWork(record, fleet, options, now) !== undefined) return base.withHeartbeat(true);
  const awaited = awaitedInterval({
    capabilities: record.capabilities,
    baseHash: base.baseHash,
    reported: record.connectionSettingsStatus,
    offer: record.settingsOffer,
    applied: record.settingsApplied,
    now,
    policy: options.settings,
  });
  return base.withHeartbeat(false, awaited);
}

/** Connection settings the agent lacks, recorded as offered. Decided last: the poll interval depends on what else is pending. */
function offerSettings(next: AgentRecord, reply: ServerToAgent, fleet: FleetState, input: PollInput, events: PollEvent[]): void {
  const { options, now } = input;
  if (!options.features.connectionSettings) return;
  if (!takesConnectionSettings(next.capabilities)) {
    delete next.settingsProblems;
    return;
  }
  const desired = currentSettings(next, { ...input, fleet });
  if (desired.deferred) return;
  if (desired.problems.length > 0) next.settingsProblems = desired.problems;
  else delete next.settingsProblems;
  const send = settingsToOffer({
    capabilities: next.capabilities,
    desired,
    reported: next.connectionSettingsStatus,
    offer: next.settingsOffer,
    applied: next.settingsApplied,
    now,
    policy: options.settings,
  });
  if (!send) return;
  reply.connectionSettings = settingsOffers(desired, send);
  next.settingsOffer = recordSettingsOffer(next.settingsOffer, desired, send, now, input.message.sequenceNum);
  if (desired.certificates.length > 0) next.heldCertificates = desired.certificates;
  else delete next.heldCertificates;
  if (!reportsSettingsStatus(next.capabilities)) next.settingsApplied = assumeApplied(next.settingsOffer, now);
  if (send.includes('opamp') && desired.heartbeatSeconds !== undefined) next.heartbeatSeconds = desired.heartbeatSeconds;
  events.push('settings-offered');
}

/** The settings offer a retried message's lost reply carried, if it is still what the agent should get. */
function reofferedSettings(stored: AgentRecord, input: PollInput): ServerToAgent['connectionSettings'] {
  const offer = stored.settingsOffer;
  if (!offer || !input.options.features.connectionSettings) return undefined;
  const desired = currentSettings(stored, input);
  return desired.hash === offer.hash ? settingsOffers(desired, offer.sent) : undefined;
}

/** The configuration to offer, recorded as offered; its body is attached by the caller. */
function offerConfig(next: AgentRecord, reply: ServerToAgent, fleet: FleetState, input: PollInput, events: PollEvent[]): ConfigMeta | undefined {
  const { options, now } = input;
  if (!options.features.remoteConfig) return undefined;
  const config = configToOffer({
    capabilities: next.capabilities,
    reported: next.remoteConfigStatus,
    offer: next.configOffer,
    target: resolveConfigTarget(next, fleet),
    now,
    policy: options.remoteConfig,
    withheld: input.withheldConfigs,
  });
  if (!config) return undefined;
  reply.remoteConfig = remoteConfigReply(config);
  next.configOffer = recordOffer(next.configOffer, config, now, input.message.sequenceNum);
  events.push('config-offered');
  return config;
}

/** The package set a retried message's lost reply offered, if it is still the one to offer. */
function reofferedPackages(stored: AgentRecord, input: PollInput): ResolvedPackageSet | undefined {
  const fleet = input.fleet ?? EMPTY_FLEET;
  const target = resolvePackagesTarget(stored, fleet);
  const resolved = target ? resolvePackageSet(target.spec, fleet.packages) : undefined;
  return resolved && 'set' in resolved && resolved.set.hash === stored.packagesOffer?.hash ? resolved.set : undefined;
}

/** The package set to offer, recorded as offered; download URLs are signed by the caller. */
function offerPackages(next: AgentRecord, reply: ServerToAgent, fleet: FleetState, input: PollInput, events: PollEvent[]): ResolvedPackageSet | undefined {
  const { options, now } = input;
  if (!options.features.packages) return undefined;
  const target = resolvePackagesTarget(next, fleet);
  const resolved = target ? resolvePackageSet(target.spec, fleet.packages) : undefined;
  const desired = resolved && 'set' in resolved ? resolved.set : undefined;
  const offer = shouldOfferPackages({
    capabilities: next.capabilities,
    reportedHash: next.serverProvidedAllPackagesHash,
    statuses: next.packages,
    offer: next.packagesOffer,
    desired,
    now,
    policy: options.packages,
  });
  if (!offer || !desired) return undefined;
  reply.packagesAvailable = packagesReply(desired);
  next.packagesOffer = recordPackagesOffer(next.packagesOffer, desired.hash, now, input.message.sequenceNum);
  events.push('packages-offered');
  return desired;
}

/** One queued custom message per reply, and the server's custom capabilities when the agent lacks them. */
function deliverMessages(next: AgentRecord, reply: ServerToAgent, verdict: SequenceVerdict, input: PollInput, events: PollEvent[]): void {
  // With the agent's list kept only in part, a queued message's capability may be in the part left out.
  const announced = next.customCapabilitiesTruncated
    ? [...(next.customCapabilities ?? []), ...(next.outbox ?? []).map((m) => m.capability)]
    : next.customCapabilities;
  const { deliver, expired } = nextMessage(next.outbox, announced, input.now);
  if (deliver || expired.length > 0) {
    const remaining = (next.outbox ?? []).filter((m) => m !== deliver && !expired.includes(m));
    if (remaining.length > 0) next.outbox = remaining;
    else delete next.outbox;
  }
  if (deliver) {
    reply.customMessage = create(CustomMessageSchema, {
      capability: deliver.capability,
      type: deliver.type,
      data: new Uint8Array(Buffer.from(deliver.data, 'base64')),
    });
    events.push('message-delivered');
  }
  const serverCaps = input.options.serverCustomCapabilities;
  if (serverCaps.length === 0) return;
  // A restarted agent has forgotten them.
  const capsHash = contentId(stableJson(serverCaps));
  if (next.sentCustomCapabilities !== capsHash || verdict === 'reset') {
    reply.customCapabilities = create(CustomCapabilitiesSchema, { capabilities: [...serverCaps] });
    next.sentCustomCapabilities = capsHash;
  }
}

/** Asks once for the component map of a hash the server has not seen in full. */
function requestComponents(next: AgentRecord, reply: ServerToAgent, events: PollEvent[]): void {
  const hash = next.availableComponentsHash;
  if (hash === undefined || !agentHas(next.capabilities, AgentCapabilities.AgentCapabilities_ReportsAvailableComponents)) return;
  if (next.sections.availableComponents === hash || next.componentsRequested === hash) return;
  reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents);
  next.componentsRequested = hash;
  events.push('components-requested');
}

function receivedMessage(message: CustomMessage, now: number): ReceivedMessage {
  const truncated = message.data.byteLength > INBOX_LIMITS.maxDataBytes;
  const data = truncated ? message.data.subarray(0, INBOX_LIMITS.maxDataBytes) : message.data;
  return { capability: message.capability, type: message.type, data: Buffer.from(data).toString('base64'), truncated, receivedAt: now };
}

/**
 * The record's state as text, to tell whether anything that must be stored
 * changed. Sequence number, digest and times are left out: they alone do not
 * justify a write (see mustWrite). The next record is built by copying the stored
 * one, so equal state gives equal text; a field removed and set again may move
 * and read as a change, which costs at most one needless write.
 */
function comparable(record: AgentRecord): string {
  const { sequenceNum: _s, lastMessageDigest: _d, lastSeenAt: _l, expiresAt: _e, version: _v, ...state } = record;
  return JSON.stringify(state, bigintAsText);
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Another agent is using this uid. The one that sent this message is given
 * its own uid, with this message's state; the record of the uid stays with
 * the agent that had it, and notes the event for the fleet API.
 */
function splitDuplicate(args: { stored: AgentRecord; input: PollInput; seen: Observation; reason: string; events: PollEvent[] }): PollDecision {
  const { stored, input, seen, reason, events } = args;
  const { message, now, options } = input;
  const newUid = input.newInstanceUid();
  events.push('duplicate-uid');
  const applied = applyStatus(emptyRecord(newUid, now, 0), message, now, input.rawSections);
  const newcomer = applied.record;
  newcomer.fingerprint = observe({}, { ...seen, reset: false, gap: false }, options.duplicateWindowMs);
  const reply = successReply(message, options);
  reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(newUid)! };
  if (!isFullReport(message, newcomer.capabilities)) {
    reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    newcomer.fullStateRequestedAt = now;
    newcomer.fullStateRequestedSeq = message.sequenceNum;
  }
  const sections = placeSections(newUid, applied.sections, stamp(input), newcomer);
  // A custom message in this message is the newcomer's: kept in its inbox.
  if (message.customMessage) {
    newcomer.inboxCount = 1;
    events.push('message-received');
  }
  const original: AgentRecord = {
    ...stored,
    duplicates: [...(stored.duplicates ?? []), { at: now, newInstanceUid: newUid, reason }].slice(-MAX_DUPLICATE_EVENTS),
  };
  return {
    reply: gateReply(reply, newcomer),
    records: [
      { record: finish(newcomer, now, options, lazily(input.messageDigest)), expectedVersion: 0 },
      { record: finish(original, stored.lastSeenAt, options), expectedVersion: stored.version },
    ],
    sections,
    sectionDeletes: [],
    events,
    ...(message.customMessage ? { inbox: { instanceUid: newUid, index: 1, message: receivedMessage(message.customMessage, now) } } : {}),
  };
}

/** A value given as is or as a function computing it, computed at most once. */
function lazily(value: string | (() => string)): () => string {
  if (typeof value === 'string') return () => value;
  let computed: string | undefined;
  return () => (computed ??= value());
}

/** The stamp for sections written under a new uid (its first record version). */
function stamp(input: PollInput): string {
  return input.writeId === undefined ? 'v1' : lazily(input.writeId)();
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

  const redirect = finish({ ...next, movedTo: newUid }, now, options, lazily(input.messageDigest));
  redirect.expiresAt = Math.floor((now + options.redirectRetentionMs) / 1000);
  const moved = finish({ ...next, instanceUid: newUid, version: 0, sectionIds: { ...next.sectionIds } }, now, options, lazily(input.messageDigest));
  delete moved.supersededSections;
  const written = placeSections(newUid, applied.sections, stamp(input), moved);
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

/**
 * Stamps what every write carries: the next version, last-seen, the expiry,
 * and the digest of the message whose sequence number it stores.
 */
function finish(record: AgentRecord, now: number, options: CoreOptions, digest?: () => string): AgentRecord {
  if (digest) record.lastMessageDigest = digest();
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
function applyStatus(base: AgentRecord, message: AgentToServer, now: number, raw: RawSections = {}): AppliedStatus {
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

/**
 * PackagesAvailable with every hash set and the download URLs left empty: they
 * are signed at poll time by the caller and take no part in any hash.
 */
function packagesReply(set: ResolvedPackageSet): ServerToAgent['packagesAvailable'] {
  const packages: Record<string, ReturnType<typeof create<typeof PackageAvailableSchema>>> = {};
  for (const pkg of set.packages) {
    packages[pkg.name] = create(PackageAvailableSchema, {
      type: packageType(pkg.name),
      version: pkg.version,
      hash: new Uint8Array(Buffer.from(packageHash(pkg), 'base64')),
      file: create(DownloadableFileSchema, {
        contentHash: new Uint8Array(Buffer.from(pkg.sha256, 'hex')),
        ...(pkg.signature !== undefined ? { signature: new Uint8Array(Buffer.from(pkg.signature, 'base64')) } : {}),
      }),
    });
  }
  return create(PackagesAvailableSchema, { packages, allPackagesHash: new Uint8Array(Buffer.from(set.hash, 'base64')) });
}

/** The reply every successful poll starts from: the uid echoed and our capabilities. */
export function successReply(message: AgentToServer, options: CoreOptions): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid: message.instanceUid,
    capabilities: serverCapabilities(options.features),
  });
}
