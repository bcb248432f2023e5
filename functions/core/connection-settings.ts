import { create } from '@bufbuild/protobuf';
import {
  AgentCapabilities,
  ConnectionSettingsOffersSchema,
  ConnectionSettingsStatuses,
  HeaderSchema,
  HeadersSchema,
  OpAMPConnectionSettingsSchema,
  OtherConnectionSettingsSchema,
  ProxyConnectionSettingsSchema,
  TLSCertificateSchema,
  TLSConnectionSettingsSchema,
  TelemetryConnectionSettingsSchema,
} from '../gen/opamp/v1/opamp_pb.js';
import type { ConnectionSettingsOffers, Headers, ProxyConnectionSettings, TLSCertificate, TLSConnectionSettings } from '../gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from './agent-record.js';
import { contentId, sha256, stableJson } from './canonical-hash.js';
import { agentHas } from './capabilities.js';
import { exhausted, nextOffer, offerDue, offerState, outcomeOf } from './offer-tracker.js';
import type { OfferRecord, OfferState, ResendPolicy } from './offer-tracker.js';

/*
 * Connection settings: what the server offers agents about where and how to
 * connect (ConnectionSettingsOffers). Operators declare them in settings
 * documents (settings/<name>.json, see settings-file.ts), targeted like
 * configurations; the server adds what only it knows: its own URL, the
 * poll interval it wants, the agent's credential and an issued certificate.
 */

export type HeaderMap = Readonly<Record<string, string>>;

export interface TlsSpec {
  caPem?: string | undefined;
  includeSystemCaCertsPool?: boolean | undefined;
  insecureSkipVerify?: boolean | undefined;
  minVersion?: string | undefined;
  maxVersion?: string | undefined;
  cipherSuites?: readonly string[] | undefined;
}

export interface ProxySpec {
  url: string;
  connectHeaders?: HeaderMap | undefined;
}

/** A destination for the agent's own telemetry (a full OTLP/HTTP URL) or another connection. */
export interface DestinationSpec {
  endpoint: string;
  headers?: HeaderMap | undefined;
  /** A certificate reference (see CertificateRef). */
  certificate?: string | undefined;
  tls?: TlsSpec | undefined;
  proxy?: ProxySpec | undefined;
}

export interface OtherConnectionSpec extends DestinationSpec {
  otherSettings?: HeaderMap | undefined;
}

/** What operators may say about the agents' OpAMP connection (the endpoint is always the server's own). */
export interface OpampSpec {
  /** A deliverable agent token: offered as `Authorization: Bearer <token>` (credential rotation). */
  token?: string | undefined;
  headers?: HeaderMap | undefined;
  certificate?: string | undefined;
  tls?: TlsSpec | undefined;
  proxy?: ProxySpec | undefined;
  /** Poll intervals for these agents, overriding the server's defaults. */
  heartbeat?: { idleSeconds?: number | undefined; pendingSeconds?: number | undefined } | undefined;
}

/** One validated settings document. */
export interface ConnectionSettingsSpec {
  opamp?: OpampSpec | undefined;
  ownMetrics?: DestinationSpec | undefined;
  ownTraces?: DestinationSpec | undefined;
  ownLogs?: DestinationSpec | undefined;
  otherConnections?: Readonly<Record<string, OtherConnectionSpec>> | undefined;
}

/** PEM material of a certificate, with the SHA-256 fingerprint of the certificate that identifies it. */
export interface ResolvedCertificate {
  fingerprint: string;
  cert: string;
  key?: string | undefined;
  ca?: string | undefined;
}

/** A certificate, or why it cannot be had: `temporary` when its source could not be read (offers then wait). */
export type CertificateLookup = ResolvedCertificate | { error: string; temporary?: boolean } | undefined;

/** A certificate the server signed for the agent (CSR flow). The agent holds the private key. */
export interface IssuedCertificateRecord {
  certPem: string;
  caPem: string;
  fingerprint: string;
  serialNumber: string;
  notAfter: number;
  issuedAt: number;
  /** SHA-256 of the CSR it answered, so that a repeated request gets the same certificate. */
  csrDigest: string;
}

/** What the poll path knows about this request and the server, beyond the stored state. */
export interface ConnectionContext {
  /** The URL agents reach this server at (destination_endpoint); without it no `opamp` offer is made. */
  endpoint?: string | undefined;
  /** The Authorization header the agent sent, and the name of the token it matched (if any). */
  presented?: { header: string; tokenName?: string | undefined } | undefined;
  /** The value of a token the server may hand out, by name. */
  deliverableToken(name: string): string | undefined;
  /** The certificate a reference names (undefined: not known at all). */
  certificate(ref: string): CertificateLookup;
}

export const NO_CONNECTION_CONTEXT: ConnectionContext = {
  deliverableToken: () => undefined,
  certificate: () => undefined,
};

export interface HeartbeatPolicy {
  /** The interval offered when nothing is pending for the agent; 0: the server does not steer polling. */
  idleSeconds: number;
  /** The interval offered while something is pending; 0: the idle interval throughout. */
  pendingSeconds: number;
}

/** Offers the agent has not reported on are repeated only to agents that report. */
export interface SettingsPolicy extends ResendPolicy {
  heartbeat: HeartbeatPolicy;
}

export const DEFAULT_SETTINGS_POLICY: SettingsPolicy = {
  resendAfterMs: 5 * 60_000,
  maxAttempts: 3,
  heartbeat: { idleSeconds: 60, pendingSeconds: 15 },
};

/** Offer parts: `opamp`, `ownMetrics`, `ownTraces`, `ownLogs`, and `other:<name>` for each other connection. */
export type PartKey = string;

interface DesiredPart {
  key: PartKey;
  /** Identifies the part's content; credentials and certificates by name and fingerprint, never by value. */
  hash: string;
  /** The same without the heartbeat interval (what "pending" compares). */
  baseHash: string;
  build(): OfferPart;
}

type OfferPart =
  | { kind: 'opamp'; value: NonNullable<ConnectionSettingsOffers['opamp']> }
  | { kind: 'telemetry'; field: 'ownMetrics' | 'ownTraces' | 'ownLogs'; value: NonNullable<ConnectionSettingsOffers['ownMetrics']> }
  | { kind: 'other'; name: string; value: ConnectionSettingsOffers['otherConnections'][string] };

export interface DesiredSettings {
  /** base64 ConnectionSettingsOffers.hash over every part this agent should have. */
  hash: string;
  baseHash: string;
  parts: readonly DesiredPart[];
  /** The poll interval in the `opamp` part, when the server steers this agent's polling. */
  heartbeatSeconds?: number | undefined;
  /** Why parts are withheld (a token that cannot be handed out, a missing certificate, ...). */
  problems: string[];
  /** Material could not be read just now: offer nothing rather than an offer without it. */
  deferred: boolean;
}

export interface DesiredSettingsInput {
  capabilities: bigint;
  spec: ConnectionSettingsSpec | undefined;
  issued: IssuedCertificateRecord | undefined;
  context: ConnectionContext;
  heartbeat: HeartbeatPolicy;
}

/**
 * Everything the agent should have, gated by what it accepts, built in two
 * steps: the parts that do not depend on pending work, then the heartbeat
 * interval once it is known whether anything is pending.
 */
export function desiredSettings(input: DesiredSettingsInput): {
  baseHash: string;
  problems: string[];
  /** The settings with the interval for pending or idle, or the interval `keepSeconds` when given (steered agents only). */
  withHeartbeat(pending: boolean, keepSeconds?: number): DesiredSettings;
} {
  const { spec } = input;
  const problems: string[] = [];
  let deferred = false;
  const context: ConnectionContext = {
    ...input.context,
    certificate: (ref) => {
      const found = input.context.certificate(ref);
      if (found && 'error' in found && found.temporary) deferred = true;
      return found;
    },
  };
  const capabilities = input.capabilities;
  const fixed: DesiredPart[] = [];
  const telemetry = [
    ['ownMetrics', AgentCapabilities.AgentCapabilities_ReportsOwnMetrics],
    ['ownTraces', AgentCapabilities.AgentCapabilities_ReportsOwnTraces],
    ['ownLogs', AgentCapabilities.AgentCapabilities_ReportsOwnLogs],
  ] as const;
  for (const [field, capability] of telemetry) {
    const destination = spec?.[field];
    if (!destination || !agentHas(capabilities, capability)) continue;
    const part = destinationPart(field, destination, context, problems);
    if (part) fixed.push(fixedPart(field, part.descriptor, () => ({ kind: 'telemetry', field, value: create(TelemetryConnectionSettingsSchema, part.message()) })));
  }
  if (spec?.otherConnections && agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings)) {
    for (const [name, other] of Object.entries(spec.otherConnections).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const part = destinationPart(`otherConnections.${name}`, other, context, problems);
      if (!part) continue;
      const otherSettings = { ...(other.otherSettings ?? {}) };
      fixed.push(fixedPart(`other:${name}`, { ...part.descriptor, otherSettings }, () => ({
        kind: 'other',
        name,
        value: create(OtherConnectionSettingsSchema, { ...part.message(), otherSettings }),
      })));
    }
  }
  const opamp = opampPart({ ...input, context }, problems);
  const base = [...fixed, ...(opamp ? [opamp.part(undefined)] : [])];
  const baseHash = aggregate(base, 'baseHash');
  return {
    baseHash,
    problems,
    withHeartbeat(pending: boolean, keepSeconds?: number): DesiredSettings {
      const heartbeatSeconds = opamp?.steered ? (keepSeconds ?? intervalFor(input, pending)) : undefined;
      const parts = [...fixed, ...(opamp ? [opamp.part(heartbeatSeconds)] : [])];
      return { hash: aggregate(parts, 'hash'), baseHash, parts, heartbeatSeconds, problems, deferred };
    },
  };
}

function intervalFor(input: DesiredSettingsInput, pending: boolean): number {
  const own = input.spec?.opamp?.heartbeat;
  const idle = own?.idleSeconds ?? input.heartbeat.idleSeconds;
  const fast = own?.pendingSeconds ?? input.heartbeat.pendingSeconds;
  return pending && fast > 0 ? Math.min(fast, idle) : idle;
}

/**
 * The `opamp` part, to agents that accept it, when there is anything to say:
 * a poll interval to steer, declared settings, or an issued certificate. It
 * is always complete (endpoint, credential, certificate): clients rebuild
 * their connection from it, and one without the agent's Authorization header
 * would lock it out. It is withheld, with a reason, when it cannot be.
 */
function opampPart(input: DesiredSettingsInput, problems: string[]): { steered: boolean; part(heartbeat: number | undefined): DesiredPart } | undefined {
  const { capabilities, spec, issued, context } = input;
  if (!agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings)) return undefined;
  const own = spec?.opamp;
  const steered = agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsHeartbeat) &&
    (own?.heartbeat?.idleSeconds ?? input.heartbeat.idleSeconds) > 0;
  if (!steered && !own && !issued) return undefined;
  const before = problems.length;
  if (!context.endpoint) problems.push('opamp: the server does not know its public URL');

  let authorization: { value: string; identity: string } | undefined;
  if (own?.token !== undefined) {
    const token = context.deliverableToken(own.token);
    if (token === undefined) problems.push(`opamp: token "${own.token}" does not exist or was not created deliverable`);
    else authorization = { value: `Bearer ${token}`, identity: `token:${own.token}` };
  } else if (context.presented) {
    const { header, tokenName } = context.presented;
    authorization = { value: header, identity: tokenName !== undefined ? `token:${tokenName}` : `header:${sha256(header).toString('hex')}` };
  }

  let certificate: { message: () => TLSCertificate; identity: string } | undefined;
  if (issued) {
    certificate = {
      identity: `issued:${issued.fingerprint}`,
      message: () => create(TLSCertificateSchema, { cert: utf8(issued.certPem), caCert: utf8(issued.caPem) }),
    };
  } else if (own?.certificate !== undefined) {
    certificate = certificatePart('opamp', own.certificate, context, problems);
  }
  if (problems.length > before) return undefined;

  const headers = [...(authorization ? [['Authorization', authorization.value] as const] : []), ...sortedHeaders(own?.headers)];
  const descriptor = {
    endpoint: context.endpoint,
    authorization: authorization?.identity,
    headers: sortedHeaders(own?.headers),
    certificate: certificate?.identity,
    tls: own?.tls,
    proxy: own?.proxy,
  };
  const baseHash = contentId(stableJson(descriptor));
  return {
    steered,
    part: (heartbeat) => ({
      key: 'opamp',
      baseHash,
      hash: heartbeat === undefined ? baseHash : contentId(stableJson({ ...descriptor, heartbeat })),
      build: () => ({
        kind: 'opamp',
        value: create(OpAMPConnectionSettingsSchema, {
          destinationEndpoint: context.endpoint!,
          headers: headersMessage(headers),
          ...(certificate ? { certificate: certificate.message() } : {}),
          ...(heartbeat !== undefined ? { heartbeatIntervalSeconds: BigInt(heartbeat) } : {}),
          ...(own?.tls ? { tls: tlsMessage(own.tls) } : {}),
          ...(own?.proxy ? { proxy: proxyMessage(own.proxy) } : {}),
        }),
      }),
    }),
  };
}

function destinationPart(label: string, destination: DestinationSpec, context: ConnectionContext, problems: string[]) {
  const certificate = destination.certificate !== undefined ? certificatePart(label, destination.certificate, context, problems) : undefined;
  if (destination.certificate !== undefined && !certificate) return undefined;
  const headers = sortedHeaders(destination.headers);
  return {
    descriptor: { endpoint: destination.endpoint, headers, certificate: certificate?.identity, tls: destination.tls, proxy: destination.proxy },
    message: () => ({
      destinationEndpoint: destination.endpoint,
      ...(headers.length > 0 ? { headers: headersMessage(headers) } : {}),
      ...(certificate ? { certificate: certificate.message() } : {}),
      ...(destination.tls ? { tls: tlsMessage(destination.tls) } : {}),
      ...(destination.proxy ? { proxy: proxyMessage(destination.proxy) } : {}),
    }),
  };
}

function certificatePart(label: string, ref: string, context: ConnectionContext, problems: string[]): { message: () => TLSCertificate; identity: string } | undefined {
  const found = context.certificate(ref);
  if (!found) {
    problems.push(`${label}: certificate "${ref}" is not available yet`);
    return undefined;
  }
  if ('error' in found) {
    problems.push(`${label}: certificate "${ref}": ${found.error}`);
    return undefined;
  }
  return {
    identity: `cert:${found.fingerprint}`,
    message: () => create(TLSCertificateSchema, {
      cert: utf8(found.cert),
      ...(found.key !== undefined ? { privateKey: utf8(found.key) } : {}),
      ...(found.ca !== undefined ? { caCert: utf8(found.ca) } : {}),
    }),
  };
}

function fixedPart(key: PartKey, descriptor: unknown, build: () => OfferPart): DesiredPart {
  const hash = contentId(stableJson(descriptor));
  return { key, hash, baseHash: hash, build };
}

/**
 * The hash over parts: for `hash`, base64 SHA-256 (what agents receive); for
 * `baseHash`, which never leaves the server, a shorter content id (it is kept
 * twice in the record read on every poll).
 */
function aggregate(parts: readonly DesiredPart[], which: 'hash' | 'baseHash'): string {
  const byKey = Object.fromEntries(parts.map((p) => [p.key, p[which]]));
  return which === 'hash' ? settingsHashOf(byKey) : contentId(hashInput(byKey));
}

/** ConnectionSettingsOffers.hash of settings made of these parts (part key to part hash). */
export function settingsHashOf(parts: Readonly<Record<PartKey, string>>): string {
  return sha256(hashInput(parts)).toString('base64');
}

function hashInput(parts: Readonly<Record<PartKey, string>>): string {
  return stableJson(Object.entries(parts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sortedHeaders(headers: HeaderMap | undefined): Array<readonly [string, string]> {
  return Object.entries(headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function headersMessage(headers: ReadonlyArray<readonly [string, string]>): Headers {
  return create(HeadersSchema, { headers: headers.map(([key, value]) => create(HeaderSchema, { key, value })) });
}

function tlsMessage(tls: TlsSpec): TLSConnectionSettings {
  return create(TLSConnectionSettingsSchema, {
    caPemContents: tls.caPem ?? '',
    includeSystemCaCertsPool: tls.includeSystemCaCertsPool ?? false,
    insecureSkipVerify: tls.insecureSkipVerify ?? false,
    minVersion: tls.minVersion ?? '',
    maxVersion: tls.maxVersion ?? '',
    cipherSuites: [...(tls.cipherSuites ?? [])],
  });
}

function proxyMessage(proxy: ProxySpec): ProxyConnectionSettings {
  const headers = sortedHeaders(proxy.connectHeaders);
  return create(ProxyConnectionSettingsSchema, { url: proxy.url, ...(headers.length > 0 ? { connectHeaders: headersMessage(headers) } : {}) });
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The ConnectionSettingsOffers carrying the given parts, with the hash over all of them. */
export function settingsOffers(desired: DesiredSettings, send: readonly PartKey[]): ConnectionSettingsOffers {
  const offers = create(ConnectionSettingsOffersSchema, { hash: new Uint8Array(Buffer.from(desired.hash, 'base64')) });
  for (const part of desired.parts) {
    if (!send.includes(part.key)) continue;
    const built = part.build();
    if (built.kind === 'opamp') offers.opamp = built.value;
    else if (built.kind === 'telemetry') offers[built.field] = built.value;
    else offers.otherConnections[built.name] = built.value;
  }
  return offers;
}

/** What the server last offered, by part. */
export interface SettingsOffer extends OfferRecord {
  baseHash: string;
  /** Every part the agent should have had after this offer (not only those sent). */
  parts: Record<PartKey, string>;
  heartbeatSeconds?: number | undefined;
  /** The parts this offer carried. */
  sent: PartKey[];
}

/** The settings the agent is known (or, when it does not report, assumed) to have. */
export interface AppliedSettings {
  hash: string;
  baseHash: string;
  parts: Record<PartKey, string>;
  heartbeatSeconds?: number | undefined;
  at: number;
  /** The agent does not report: this is what it was sent. */
  assumed: boolean;
}

/** The capabilities that let an agent take any part of connection settings. */
const SETTINGS_CAPABILITIES = [
  AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings,
  AgentCapabilities.AgentCapabilities_ReportsOwnMetrics,
  AgentCapabilities.AgentCapabilities_ReportsOwnTraces,
  AgentCapabilities.AgentCapabilities_ReportsOwnLogs,
  AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings,
].reduce((mask, capability) => mask | BigInt(capability), 0n);

/** Whether the agent can take any connection settings at all (most heartbeats then skip the work). */
export function takesConnectionSettings(capabilities: bigint): boolean {
  return (capabilities & SETTINGS_CAPABILITIES) !== 0n;
}

export function reportsSettingsStatus(capabilities: bigint): boolean {
  return agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsConnectionSettingsStatus);
}

/** The applied settings after the agent reported a ConnectionSettingsStatus. */
export function noteSettingsStatus(offer: SettingsOffer | undefined, applied: AppliedSettings | undefined, status: ReportedApplyStatus, now: number): AppliedSettings | undefined {
  if (status.status !== ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED) return applied;
  if (!offer || offer.hash !== status.hash || (applied?.hash === offer.hash && !applied.assumed)) return applied;
  return { hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: offer.heartbeatSeconds, at: now, assumed: false };
}

export interface SettingsProgress {
  capabilities: bigint;
  baseHash: string;
  reported: ReportedApplyStatus | undefined;
  offer: SettingsOffer | undefined;
  applied: AppliedSettings | undefined;
  now: number;
  policy: SettingsPolicy;
}

/**
 * The interval of an offer of these settings that still waits for the
 * agent's report: while it waits, the interval is not changed (a new interval
 * would be a new offer, and the agent has not answered this one yet). Only
 * agents that report their status are waited for, and not beyond the offer's
 * last attempt.
 */
export function awaitedInterval(args: SettingsProgress): number | undefined {
  const { offer } = args;
  if (!offer || offer.baseHash !== args.baseHash || !reportsSettingsStatus(args.capabilities)) return undefined;
  if (args.applied?.hash === offer.hash || args.reported?.hash === offer.hash || exhausted(offer, args.now, args.policy)) return undefined;
  return offer.heartbeatSeconds;
}

/**
 * The parts this reply should carry, if any. An agent that reports its status
 * is offered until it reports the desired hash (applied, applying or failed:
 * a failed hash is not offered again), repeated after a quiet period a
 * bounded number of times. An agent that does not report is offered each
 * hash once (again after it restarts; see forgetAssumed). Only parts that
 * differ from what the agent has are sent: unset parts mean "keep yours".
 */
export function settingsToOffer(args: {
  capabilities: bigint;
  desired: DesiredSettings;
  reported: ReportedApplyStatus | undefined;
  offer: SettingsOffer | undefined;
  applied: AppliedSettings | undefined;
  now: number;
  policy: SettingsPolicy;
}): PartKey[] | undefined {
  const { desired, applied } = args;
  if (desired.parts.length === 0) return undefined;
  const reporting = reportsSettingsStatus(args.capabilities);
  const has = reporting ? args.reported?.hash === desired.hash : applied?.hash === desired.hash;
  if (!offerDue({ desired: desired.hash, has, offer: args.offer, reports: reporting, now: args.now, policy: args.policy })) return undefined;
  const changed = desired.parts.filter((p) => applied?.parts[p.key] !== p.hash).map((p) => p.key);
  // Nothing differs part by part (a part was dropped): send everything, so the new hash arrives with content.
  return changed.length > 0 ? changed : desired.parts.map((p) => p.key);
}

export function recordSettingsOffer(previous: SettingsOffer | undefined, desired: DesiredSettings, sent: PartKey[], now: number, seq: bigint): SettingsOffer {
  return {
    ...nextOffer(previous, desired.hash, now, seq),
    baseHash: desired.baseHash,
    parts: Object.fromEntries(desired.parts.map((p) => [p.key, p.hash])),
    ...(desired.heartbeatSeconds !== undefined ? { heartbeatSeconds: desired.heartbeatSeconds } : {}),
    sent,
  };
}

export function assumeApplied(offer: SettingsOffer, now: number): AppliedSettings {
  return { hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: offer.heartbeatSeconds, at: now, assumed: true };
}

/**
 * Where an agent stands with its connection settings:
 * - `none`: nothing to offer it;
 * - `pending`: something to offer, not offered yet (or withheld: see problems);
 * - `offered`: offered, no report yet (or the agent does not report);
 * - `applying`, `applied`, `failed`: as the agent reported for the last offer.
 */
export type SettingsRolloutState = Exclude<OfferState, 'rolled-back' | 'not-taken'>;

export function settingsRolloutState(args: {
  targeted: boolean;
  reported: ReportedApplyStatus | undefined;
  offer: SettingsOffer | undefined;
}): SettingsRolloutState {
  const { offer, reported } = args;
  if (!offer) return args.targeted ? 'pending' : 'none';
  // The last offer stands in for the desired settings (they are only known at poll time); nothing is abandoned or given up here.
  return offerState({ desired: offer.hash, reported: reported && { hash: reported.hash, outcome: outcomeOf(reported.status, SETTINGS_OUTCOMES) }, offer }) as SettingsRolloutState;
}

const SETTINGS_OUTCOMES = {
  applied: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED,
  failed: ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED,
};
