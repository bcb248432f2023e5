import type { IssuedCertificateRecord } from '../core/connection-settings.js';
import type { FleetState } from '../core/fleet.js';
import type { Telemetry } from '../observability/telemetry.js';
import { StoreUnavailableError } from '../ports/errors.js';
import { CsrRejectedError, loadCertificateAuthority } from './certificate-authority.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { CertificateResolver } from './certificate-resolver.js';

export interface CertificateIssuerDeps {
  /** Where the CA's certificate and private key are kept (a certificate reference). */
  caRef: string;
  resolver: CertificateResolver;
  now: () => number;
  validityMs?: number | undefined;
  requireInstanceUid?: boolean | undefined;
  telemetry: Telemetry;
}

/**
 * Signs agents' certificate signing requests (the agent-initiated CSR flow)
 * with the configured CA. The CA is read through the certificate resolver,
 * so it can live in Secrets Manager, the bucket or (locally) a directory, and
 * is loaded again when its material changes.
 */
export class CertificateIssuer {
  private authority: { fingerprint: string; ca: Promise<CertificateAuthority> } | undefined;

  constructor(private readonly deps: CertificateIssuerDeps) {}

  async issue(csr: Uint8Array, instanceUid: string, fleet: FleetState): Promise<IssuedCertificateRecord> {
    const ca = await this.currentAuthority(fleet);
    const issued = await ca.sign(csr, instanceUid);
    return {
      certPem: issued.certPem,
      caPem: issued.caPem,
      fingerprint: issued.fingerprint,
      serialNumber: issued.serialNumber,
      notAfter: issued.notAfter,
      issuedAt: this.deps.now(),
      csrDigest: issued.csrDigest,
      // Kept to sign a renewal for the same key before this certificate expires.
      csrPem: new TextDecoder().decode(csr),
    };
  }

  private async currentAuthority(fleet: FleetState): Promise<CertificateAuthority> {
    const material = await this.deps.resolver.resolve(this.deps.caRef, fleet);
    if (!material || 'error' in material) {
      const reason = material?.error ?? 'not found';
      this.deps.telemetry.logger.error('certificate authority unavailable', { ca: this.deps.caRef, error: reason });
      // An unreadable source is worth a retry; wrong material is not.
      if (material?.temporary) throw new StoreUnavailableError('certificates', `the CA ${this.deps.caRef} cannot be read: ${reason}`);
      throw new CsrRejectedError(`the server cannot sign certificates: its CA (${this.deps.caRef}) is unusable: ${reason}`);
    }
    if (material.key === undefined) throw new CsrRejectedError(`the server cannot sign certificates: its CA (${this.deps.caRef}) has no private key`);
    if (this.authority?.fingerprint !== material.fingerprint) {
      const ca = loadCertificateAuthority(
        { cert: material.cert, key: material.key, ...(material.ca !== undefined ? { ca: material.ca } : {}) },
        {
          now: this.deps.now,
          ...(this.deps.validityMs !== undefined ? { validityMs: this.deps.validityMs } : {}),
          ...(this.deps.requireInstanceUid !== undefined ? { requireInstanceUid: this.deps.requireInstanceUid } : {}),
        },
      );
      this.authority = { fingerprint: material.fingerprint, ca };
      ca.catch(() => {
        if (this.authority?.ca === ca) this.authority = undefined;
      });
    }
    try {
      return await this.authority.ca;
    } catch (error) {
      this.deps.telemetry.logger.error('certificate authority rejected', { ca: this.deps.caRef, error: (error as Error).message });
      throw new CsrRejectedError(`the server cannot sign certificates: ${(error as Error).message}`);
    }
  }
}
