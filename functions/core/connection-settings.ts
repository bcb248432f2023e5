import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, OpAMPConnectionSettingsSchema, OtherConnectionSettingsSchema, TLSCertificateSchema, TelemetryConnectionSettingsSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { ConnectionSettingsOffers } from '../gen/opamp/v1/opamp_pb.js';
import { contentId, sha256, stableJson } from './canonical-hash.js';
import { agentHas } from './capabilities.js';
import type { ResendPolicy } from './offer-tracker.js';
import type { HeldCertificate } from './certificate-expiry.js';
import type { CredentialValue, SecretLookup, SecretRef } from './secret-refs.js';
import { certificatePart, resolveDestinationValues } from './settings-credentials.js';
import type { CertificatePart } from './settings-credentials.js';
import { headersMessage, proxyMessage, tlsMessage, utf8 } from './settings-messages.js';
import { byKey } from './compare.js';

/*
 * Connection settings: what the server offers agents about where and how to
 * connect (ConnectionSettingsOffers). Operators declare them in settings
 * documents (settings/<name>.json, see settings-file.ts), targeted like
 * configurations; the server adds what only it knows: its own URL, the
 * poll interval it wants, the agent's credential and an issued certificate.
 */

/** Header (or other setting) values: literal, or a secret reference (see secret-refs.ts). */
export type HeaderMap = Readonly<Record<string, CredentialValue>>;

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
  /** When the certificate expires (milliseconds since the epoch), when known. */
  notAfter?: number | undefined;
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
  /** The CSR itself (PEM), to sign a renewal for the same key before this one expires. */
  csrPem?: string | undefined;
}

/** What the poll path knows about this request and the server, beyond the stored state. */
export interface ConnectionContext {
  /** The URL agents reach this server at (destination_endpoint); without it no `opamp` offer is made. */
  endpoint?: string | undefined;
  /** The Authorization header the agent sent, and the name of the token it matched (if any). */
  presented?: { header: string; tokenName?: string | undefined } | undefined;
  /** The value of a token the server may hand out, by name. */
  deliverableToken(name: string): string | undefined;
  /** The token that replaces one being revoked (its name), if it is being revoked. */
  replacementToken?(name: string): string | undefined;
  /** The certificate a reference names (undefined: not known at all). */
  certificate(ref: string): CertificateLookup;
  /** The value a secret reference names (undefined: not read yet). */
  secret?(ref: SecretRef): SecretLookup;
  /** The time of the poll: an issued certificate that expired by then is not offered. */
  now?: number | undefined;
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
  /** The certificate the part carries from a settings document, with its expiry. */
  certificate?: HeldCertificate | undefined;
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
  /** The certificates the parts carry (from settings documents), with their expiry. */
  certificates: HeldCertificate[];
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
    secret: (ref) => {
      const found = input.context.secret?.(ref);
      if (!found || ('error' in found && found.temporary)) deferred = true;
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
    if (part) fixed.push(fixedPart(field, part.descriptor, () => ({ kind: 'telemetry', field, value: create(TelemetryConnectionSettingsSchema, part.message()) }), part.held?.(field)));
  }
  if (spec?.otherConnections && agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings)) {
    for (const [name, other] of Object.entries(spec.otherConnections).sort(byKey)) {
      const part = destinationPart(`otherConnections.${name}`, other, context, problems);
      if (!part) continue;
      const { identity, pairs } = part.values.otherSettings;
      fixed.push(
        fixedPart(
          `other:${name}`,
          { ...part.descriptor, otherSettings: Object.fromEntries(identity) },
          () => ({
            kind: 'other',
            name,
            value: create(OtherConnectionSettingsSchema, { ...part.message(), otherSettings: Object.fromEntries(pairs) }),
          }),
          part.held?.(`other:${name}`),
        ),
      );
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
      const certificates = parts.flatMap((p) => (p.certificate ? [p.certificate] : []));
      return { hash: aggregate(parts, 'hash'), baseHash, parts, heartbeatSeconds, problems, deferred, certificates };
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
  const steered = agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsHeartbeat) && (own?.heartbeat?.idleSeconds ?? input.heartbeat.idleSeconds) > 0;
  // A token being revoked is swapped for its replacement, whether a document names it or the agent presented it.
  const named = own?.token ?? context.presented?.tokenName;
  const replacement = named !== undefined ? context.replacementToken?.(named) : undefined;
  const tokenName = replacement ?? own?.token;
  if (!steered && !own && !issued && replacement === undefined) return undefined;
  const before = problems.length;
  if (!context.endpoint) problems.push('opamp: the server does not know its public URL');

  let authorization: { value: string; identity: string } | undefined;
  if (tokenName !== undefined) {
    const token = context.deliverableToken(tokenName);
    if (token === undefined) problems.push(`opamp: token "${tokenName}" does not exist or was not created deliverable`);
    else authorization = { value: `Bearer ${token}`, identity: `token:${tokenName}` };
  } else if (context.presented) {
    const { header, tokenName } = context.presented;
    authorization = { value: header, identity: tokenName !== undefined ? `token:${tokenName}` : `header:${sha256(header).toString('hex')}` };
  }

  let certificate: CertificatePart | undefined;
  if (issued && context.now !== undefined && issued.notAfter <= context.now) {
    problems.push(`opamp: the certificate issued to the agent expired at ${new Date(issued.notAfter).toISOString()}; it needs a new certificate request`);
  } else if (issued) {
    certificate = {
      identity: `issued:${issued.fingerprint}`,
      message: () => create(TLSCertificateSchema, { cert: utf8(issued.certPem), caCert: utf8(issued.caPem) }),
    };
  } else if (own?.certificate !== undefined) {
    certificate = certificatePart('opamp', own.certificate, context, problems);
  }
  // A secret's last good value comes with a problem of its own, which does not withhold the part.
  const blocked = problems.length > before;
  const values = resolveDestinationValues('opamp', own ?? {}, context, problems);
  if (blocked || !values) return undefined;

  const headers = [...(authorization ? [['Authorization', authorization.value] as const] : []), ...values.headers.pairs];
  const descriptor = {
    endpoint: context.endpoint,
    authorization: authorization?.identity,
    headers: values.headers.identity,
    certificate: certificate?.identity,
    tls: own?.tls,
    proxy: values.proxyIdentity,
  };
  const baseHash = contentId(stableJson(descriptor));
  return {
    steered,
    part: (heartbeat) => ({
      key: 'opamp',
      ...(certificate?.held ? { certificate: certificate.held('opamp') } : {}),
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
          ...(own?.proxy ? { proxy: proxyMessage(own.proxy, values.proxyHeaders.pairs) } : {}),
        }),
      }),
    }),
  };
}

function destinationPart(label: string, destination: DestinationSpec & { otherSettings?: HeaderMap | undefined }, context: ConnectionContext, problems: string[]) {
  const certificate = destination.certificate !== undefined ? certificatePart(label, destination.certificate, context, problems) : undefined;
  const values = resolveDestinationValues(label, destination, context, problems);
  if ((destination.certificate !== undefined && !certificate) || !values) return undefined;
  const headers = values.headers.pairs;
  const proxy = destination.proxy;
  return {
    values,
    held: certificate?.held,
    descriptor: { endpoint: destination.endpoint, headers: values.headers.identity, certificate: certificate?.identity, tls: destination.tls, proxy: values.proxyIdentity },
    message: () => ({
      destinationEndpoint: destination.endpoint,
      ...(headers.length > 0 ? { headers: headersMessage(headers) } : {}),
      ...(certificate ? { certificate: certificate.message() } : {}),
      ...(destination.tls ? { tls: tlsMessage(destination.tls) } : {}),
      ...(proxy ? { proxy: proxyMessage(proxy, values.proxyHeaders.pairs) } : {}),
    }),
  };
}

function fixedPart(key: PartKey, descriptor: unknown, build: () => OfferPart, certificate?: HeldCertificate): DesiredPart {
  const hash = contentId(stableJson(descriptor));
  return { key, hash, baseHash: hash, build, ...(certificate ? { certificate } : {}) };
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
  return stableJson(Object.entries(parts).sort(byKey));
}

export * from './settings-progress.js';
