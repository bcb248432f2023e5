import { renewalDue } from '../core/certificate-expiry.js';
import type { AgentRecord } from '../core/agent-record.js';
import type { IssuedCertificateRecord } from '../core/connection-settings.js';
import type { FleetState } from '../core/fleet.js';
import type { CertificateIssuer } from './certificate-issuer.js';

/**
 * A fresh certificate for an agent whose server-issued certificate is due for
 * renewal, signed for the key of its last certificate request: offered in the
 * `opamp` part like the first one, while the old certificate is still valid.
 * A renewal that fails now (the CA cannot be read, say) is tried again on a
 * later poll; the poll itself goes on.
 */
export async function renewIssuedCertificate(
  issuer: CertificateIssuer | undefined,
  record: AgentRecord | undefined,
  instanceUid: string,
  fleet: FleetState,
  now: number,
  fraction: number,
): Promise<IssuedCertificateRecord | undefined> {
  const issued = record?.issuedCertificate;
  if (!issuer || !issued || !renewalDue(issued, now, fraction)) return undefined;
  try {
    return await issuer.issue(new TextEncoder().encode(issued.csrPem), instanceUid, fleet);
  } catch {
    return undefined;
  }
}
