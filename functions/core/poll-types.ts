import type { AgentToServer, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { ReceivedMessage } from './agent-commands.js';
import type { AgentRecord } from './agent-record.js';
import type { ConnectionContext, IssuedCertificateRecord } from './connection-settings.js';
import type { CoreOptions } from './core-options.js';
import type { DesiredState } from './desired-state.js';
import type { ConfigMeta, FleetState } from './fleet.js';
import type { ResolvedPackageSet } from './packages.js';
import type { SectionContent, SectionKind, SectionRef } from './sections.js';
import type { SequenceVerdict } from './sequence.js';

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

export type RawSections = Partial<Record<SectionKind, Uint8Array>>;

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

/** Record fields a feature sets; a field given as undefined is removed from the record. */
export type RecordChanges = { [K in keyof AgentRecord]?: AgentRecord[K] | undefined };

/** The parts of a reply that features fill in. */
export type ReplyPart = Partial<Pick<ServerToAgent, 'remoteConfig' | 'packagesAvailable' | 'connectionSettings' | 'customMessage' | 'customCapabilities' | 'command'>>;

/**
 * What one feature contributes to a poll: its part of the reply, its record
 * changes and its events. Features return these rather than writing into the
 * reply or the record; the orchestrator applies them in order.
 */
export interface FeatureOutcome {
  reply?: ReplyPart;
  /** ServerToAgentFlags to set in the reply. */
  flags?: bigint;
  changes?: RecordChanges;
  events?: PollEvent[];
  attachConfig?: ConfigMeta;
  attachPackages?: ResolvedPackageSet;
  inbox?: PollDecision['inbox'];
}

/** What a feature sees of the poll being decided. */
export interface PollContext {
  input: PollInput;
  /** The agent's record as the status report and the features before this one left it. */
  record: AgentRecord;
  /** What the agent should have, worked out once for the whole poll. */
  desired: DesiredState;
  verdict: SequenceVerdict;
}
