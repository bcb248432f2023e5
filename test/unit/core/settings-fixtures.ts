import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, ConnectionSettingsStatusSchema, ConnectionSettingsStatuses } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ConnectionSettingsStatus, Headers } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from '../../../functions/core/agent-record.js';
import { desiredSettings } from '../../../functions/core/connection-settings.js';
import type {
  CertificateLookup,
  ConnectionContext,
  ConnectionSettingsSpec,
  DesiredSettings,
  HeartbeatPolicy,
  IssuedCertificateRecord,
  ResolvedCertificate,
  SettingsPolicy,
} from '../../../functions/core/connection-settings.js';
import type { ConfigAssignment, ConfigMeta, FleetState } from '../../../functions/core/fleet.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { MINUTE, T0 } from './fixtures.js';

/**
 * Builders for the connection-settings tests: capabilities, a connection
 * context, certificates and fleets with settings documents, written as data.
 * Certificate fingerprints are computed here with node:crypto, not with the
 * code under test.
 */

const bit = (c: AgentCapabilities) => BigInt(c);
const A = AgentCapabilities;

export const REPORTS_STATUS = bit(A.AgentCapabilities_ReportsStatus);
export const ACCEPTS_RC = bit(A.AgentCapabilities_AcceptsRemoteConfig);
export const REPORTS_RC = bit(A.AgentCapabilities_ReportsRemoteConfig);
export const ACCEPTS_OPAMP = bit(A.AgentCapabilities_AcceptsOpAMPConnectionSettings);
export const ACCEPTS_OTHER = bit(A.AgentCapabilities_AcceptsOtherConnectionSettings);
export const REPORTS_HEARTBEAT = bit(A.AgentCapabilities_ReportsHeartbeat);
export const REPORTS_SETTINGS = bit(A.AgentCapabilities_ReportsConnectionSettingsStatus);
export const OWN_METRICS = bit(A.AgentCapabilities_ReportsOwnMetrics);
export const OWN_TRACES = bit(A.AgentCapabilities_ReportsOwnTraces);
export const OWN_LOGS = bit(A.AgentCapabilities_ReportsOwnLogs);
export const ACCEPTS_RESTART = bit(A.AgentCapabilities_AcceptsRestartCommand);

/** An agent that takes its OpAMP connection settings and lets the server steer its polling; it does not report settings status. */
export const STEERABLE = REPORTS_STATUS | ACCEPTS_OPAMP | REPORTS_HEARTBEAT;
/** Takes every kind of connection settings and reports what became of them. */
export const TAKES_ALL = STEERABLE | OWN_METRICS | OWN_TRACES | OWN_LOGS | ACCEPTS_OTHER | REPORTS_SETTINGS;

export const APPLIED = ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED;
export const APPLYING = ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLYING;
export const FAILED = ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED;

export const ENDPOINT = 'https://opamp.example.com/v1/opamp';
/** What the agent sent: a bearer token the server knows by the name `fleet-a`. */
export const PRESENTED = { header: 'Bearer secret-of-fleet-a', tokenName: 'fleet-a' } as const;

export const HEARTBEAT: HeartbeatPolicy = { idleSeconds: 60, pendingSeconds: 15 };
export const SETTINGS_POLICY: SettingsPolicy = { resendAfterMs: 5 * MINUTE, maxAttempts: 3, heartbeat: HEARTBEAT };

export function hexSha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function pem(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
}

/** A certificate as a lookup finds it; its fingerprint is that of its certificate text. */
export function resolvedCertificate(name: string, options: { key?: boolean; ca?: boolean; keyText?: string } = {}): ResolvedCertificate {
  const cert = pem('CERTIFICATE', `certificate of ${name}`);
  return {
    fingerprint: hexSha256(cert),
    cert,
    ...(options.key !== false ? { key: pem('PRIVATE KEY', options.keyText ?? `key of ${name}`) } : {}),
    ...(options.ca !== false ? { ca: pem('CERTIFICATE', `ca of ${name}`) } : {}),
  };
}

export function issuedCertificate(serial = '01', issuedAt = T0): IssuedCertificateRecord {
  const certPem = pem('CERTIFICATE', `issued certificate ${serial}`);
  return {
    certPem,
    caPem: pem('CERTIFICATE', 'issuing ca'),
    fingerprint: hexSha256(certPem),
    serialNumber: serial,
    notAfter: issuedAt + 30 * 24 * 60 * MINUTE,
    issuedAt,
    csrDigest: hexSha256(`csr ${serial}`),
  };
}

export interface ContextInit {
  endpoint?: string | undefined;
  presented?: { header: string; tokenName?: string | undefined } | undefined;
  /** Deliverable token values by name. */
  tokens?: Record<string, string>;
  /** Certificate lookups by reference. */
  certificates?: Record<string, CertificateLookup>;
}

/** A connection context: the server's URL and the agent's credential unless overridden. */
export function connectionContext(init: ContextInit = {}): ConnectionContext {
  const tokens = init.tokens ?? {};
  const certificates = init.certificates ?? {};
  return {
    ...('endpoint' in init ? (init.endpoint !== undefined ? { endpoint: init.endpoint } : {}) : { endpoint: ENDPOINT }),
    ...('presented' in init ? (init.presented !== undefined ? { presented: init.presented } : {}) : { presented: { ...PRESENTED } }),
    deliverableToken: (name) => tokens[name],
    certificate: (ref) => certificates[ref],
  };
}

export interface DesiredInit {
  capabilities?: bigint;
  spec?: ConnectionSettingsSpec | undefined;
  issued?: IssuedCertificateRecord | undefined;
  context?: ConnectionContext;
  heartbeat?: HeartbeatPolicy;
  pending?: boolean;
}

/** desiredSettings for an agent that takes everything, through a default context, with nothing pending. */
export function desired(init: DesiredInit = {}): DesiredSettings {
  return desiredSettings({
    capabilities: init.capabilities ?? TAKES_ALL,
    spec: init.spec,
    issued: init.issued,
    context: init.context ?? connectionContext(),
    heartbeat: init.heartbeat ?? HEARTBEAT,
  }).withHeartbeat(init.pending ?? false);
}

export function partKeys(settings: DesiredSettings): string[] {
  return settings.parts.map((p) => p.key).sort();
}

/** Headers as a plain map, with the order they came in. */
export function headerEntries(headers: Headers | undefined): Array<[string, string]> {
  return (headers?.headers ?? []).map((h) => [h.key, h.value]);
}

export function reportedStatus(hash: string, status: number, errorMessage = ''): ReportedApplyStatus {
  return { hash, status, errorMessage };
}

/** A ConnectionSettingsStatus as an agent sends it, for a base64 hash the server offered. */
export function settingsStatus(hash: string, status: number, errorMessage = ''): ConnectionSettingsStatus {
  return create(ConnectionSettingsStatusSchema, {
    lastConnectionSettingsHash: new Uint8Array(Buffer.from(hash, 'base64')),
    status,
    errorMessage,
  });
}

export function settingsAssignment(name: string, settings: string, target: { selector?: string; instanceUid?: string; priority?: number; config?: string } = {}): ConfigAssignment {
  return {
    name,
    settings,
    priority: target.priority ?? 0,
    ...(target.config !== undefined ? { config: target.config } : {}),
    ...(target.selector !== undefined ? { selector: parseSelector(target.selector) } : {}),
    ...(target.instanceUid !== undefined ? { instanceUid: target.instanceUid } : {}),
  };
}

export function settingsFleet(init: { settings?: Record<string, ConnectionSettingsSpec>; assignments?: readonly ConfigAssignment[]; configs?: ConfigMeta[]; generation?: string } = {}): FleetState {
  return {
    generation: init.generation ?? '1',
    configs: new Map((init.configs ?? []).map((c) => [c.name, c])),
    assignments: init.assignments ?? [],
    packages: new Map(),
    settings: new Map(Object.entries(init.settings ?? {})),
    certificates: new Map(),
    rollouts: new Map(),
  };
}
