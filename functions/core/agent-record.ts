import type { CommandOutcome, QueuedCommand, QueuedMessage } from './agent-commands.js';
import type { AgentFingerprint, DuplicateEvent } from './duplicates.js';
import type { PackageStatusSummary, PackagesOffer } from './packages.js';
import type { RemoteConfigOffer } from './remote-config.js';
import type { SectionKind, SectionRef } from './sections.js';
import type { Truncation } from './record-bounds.js';
import type { AppliedSettings, IssuedCertificateRecord, SettingsOffer } from './connection-settings.js';
import type { HeldCertificate } from './certificate-expiry.js';

/** Last RemoteConfigStatus or ConnectionSettingsStatus the agent reported. */
export interface ReportedApplyStatus {
  /** base64 of the hash the agent reported (empty when it reported none). */
  hash: string;
  /** The protobuf enum value (UNSET, APPLIED, APPLYING, FAILED). */
  status: number;
  errorMessage: string;
}

/**
 * The per-agent record read (strongly consistent) on every poll and written at
 * most once per poll. It holds only what a poll needs to decide its reply;
 * large sections live in their own items and are referenced by content id.
 *
 * Invariant: `version` grows by exactly one with every successful write; writes
 * are conditional on the version read, so two concurrent polls for one agent
 * never overwrite each other's changes (the loser re-reads and decides again).
 */
export interface AgentRecord {
  instanceUid: string;
  /** Optimistic-lock counter; 0 only for a record that was never stored. */
  version: number;
  sequenceNum: bigint;
  /** Content id of the last applied request body, to recognise a retried duplicate. */
  lastMessageDigest: string;
  capabilities: bigint;
  firstSeenAt: number;
  /**
   * When a poll last wrote this record. Heartbeats that change nothing refresh
   * it at most once per refresh window, so it trails the true last poll by up
   * to that window.
   */
  lastSeenAt: number;
  disconnectedAt?: number;
  /** When ReportFullState was last requested, and in reply to which sequence number. */
  fullStateRequestedAt?: number;
  fullStateRequestedSeq?: bigint;
  /** The agent's own poll cadence, once two sequence jumps in a row showed it (see explainJump). */
  pollCadenceMs?: number;
  /** The poll interval the last unexplained jump implied, awaiting confirmation. */
  cadenceCandidateMs?: number;
  /** When a gap or reset of this agent was last logged (logged at most once per window). */
  noisyEventLoggedAt?: number;
  /** Flattened description attributes that selectors match on (within RECORD_BOUNDS). */
  attributes: Record<string, string>;
  /** Set when `attributes` holds only part of the description's (the description section has them all). */
  attributesTruncated?: Truncation;
  /** Top-level health, kept here so that fleet listings need no extra reads. */
  healthy?: boolean;
  /** Content hashes of the agent's sections, to tell changed content from unchanged. */
  sections: Partial<Record<SectionKind, string>>;
  /** Where each section is stored (see SectionRef). */
  sectionIds: Partial<Record<SectionKind, string>>;
  /**
   * Sections this record no longer refers to. They are deleted with the next
   * section write, once a committed record has stopped pointing at them; a
   * poll whose record write fails thus never leaves a reader seeing its
   * sections, and never loses the committed ones.
   */
  supersededSections?: SectionRef[];
  /** The agent's own hash of its available components (base64url). */
  availableComponentsHash?: string;
  remoteConfigStatus?: ReportedApplyStatus;
  connectionSettingsStatus?: ReportedApplyStatus;
  /** base64 of PackageStatuses.server_provided_all_packages_hash. */
  serverProvidedAllPackagesHash?: string;
  customCapabilities?: string[];
  /** Set when `customCapabilities` holds only part of what the agent announced. */
  customCapabilitiesTruncated?: Truncation;
  /** The last remote configuration offered, and what the agent did with it. */
  configOffer?: RemoteConfigOffer;
  /** The last package set offered. */
  packagesOffer?: PackagesOffer;
  /** The last connection settings offered, and those the agent has (or is assumed to have). */
  settingsOffer?: SettingsOffer;
  settingsApplied?: AppliedSettings;
  /** Why parts of the agent's connection settings are withheld (a token that cannot be handed out, ...). */
  settingsProblems?: string[];
  /** The poll interval last offered to the agent (it applies it on receipt). */
  heartbeatSeconds?: number;
  /** The agent token the agent last authenticated with (by name). */
  tokenName?: string;
  /** The client certificate the server last signed for the agent (CSR flow). */
  issuedCertificate?: IssuedCertificateRecord;
  /** Certificates the last connection settings offer carried, with their expiry. */
  heldCertificates?: HeldCertificate[];
  /** The agent's package statuses, compact (the full report is a section). */
  packages?: Record<string, PackageStatusSummary>;
  /** The components hash ReportAvailableComponents was last asked for (asked once per hash). */
  componentsRequested?: string;
  /** A restart queued through the fleet API, and what became of the last one. */
  pendingCommand?: QueuedCommand;
  lastCommand?: CommandOutcome;
  /** Custom messages queued for the agent (bounded; see OUTBOX_LIMITS). */
  outbox?: QueuedMessage[];
  /** Hash of the server custom capabilities last sent to this agent. */
  sentCustomCapabilities?: string;
  /** How many custom messages the agent has sent (numbers its inbox items). */
  inboxCount?: number;
  /** What the agent's messages said about it, to notice a second agent with the same uid. */
  fingerprint?: AgentFingerprint;
  /** Agents that were found sharing this uid and given their own (most recent last). */
  duplicates?: DuplicateEvent[];
  /**
   * Set on a temporary uid's record once the server assigned the agent a new
   * uid, so that a retried RequestInstanceUid gets the same answer.
   */
  movedTo?: string;
  /** Unix seconds after which the store may delete the record (garbage collection only). */
  expiresAt: number;
}
