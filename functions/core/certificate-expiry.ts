import type { AgentRecord } from './agent-record.js';
import type { IssuedCertificateRecord } from './connection-settings.js';

/**
 * Certificates an agent holds, and when they run out: the one the server
 * signed for it (CSR flow) and those its connection settings offers carried.
 */

/** A certificate offered to an agent in a settings part. */
export interface HeldCertificate {
  /** The settings part that carried it (`opamp`, `ownMetrics`, `other:<name>`, ...). */
  part: string;
  /** Where it came from: a certificate reference, or `issued` for one the server signed. */
  source: string;
  /** Hex SHA-256 of the certificate (DER). */
  fingerprint: string;
  /** Milliseconds since the epoch. */
  notAfter: number;
}

export const DAY_MS = 24 * 60 * 60_000;
/** How long before expiry a certificate is reported (metric, alarm, listings) unless configured otherwise. */
export const DEFAULT_EXPIRY_WARNING_MS = 14 * DAY_MS;
/** The share of an issued certificate's lifetime after which the server renews it, unless configured otherwise. */
export const DEFAULT_RENEW_AT_FRACTION = 2 / 3;

/** Every certificate the agent holds, the issued one first. */
export function heldCertificates(record: Pick<AgentRecord, 'issuedCertificate' | 'heldCertificates'>): HeldCertificate[] {
  const issued = record.issuedCertificate;
  return [...(issued ? [{ part: 'opamp', source: 'issued', fingerprint: issued.fingerprint, notAfter: issued.notAfter }] : []), ...(record.heldCertificates ?? [])];
}

/** The certificates the agent holds that expire within the window (expired ones included). */
export function expiringWithin(record: Pick<AgentRecord, 'issuedCertificate' | 'heldCertificates'>, now: number, windowMs: number): HeldCertificate[] {
  return heldCertificates(record).filter((c) => c.notAfter - now <= windowMs);
}

/**
 * Whether a certificate the server issued is due for renewal: once the given
 * share of its lifetime has passed. The renewal is signed for the same key
 * (the agent's last CSR), so the agent keeps its private key and the old
 * certificate stays valid until the new one has arrived: there is no gap.
 */
export function renewalDue(issued: IssuedCertificateRecord, now: number, fraction: number): boolean {
  if (issued.csrPem === undefined) return false;
  const lifetime = issued.notAfter - issued.issuedAt;
  return lifetime > 0 && now >= issued.issuedAt + lifetime * fraction && now < issued.notAfter;
}
