import { randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { sha256 } from '../core/canonical-hash.js';
import { isCanonicalInstanceUid } from '../core/instance-uid.js';
import { assertKeyMatchesCertificate, CertificateMaterialError, certificateInfo, KEY_USAGE_OID, loadX509, readCertificate, readPrivateKey, SUBJECT_KEY_IDENTIFIER_OID } from './x509.js';
import type { CertificateInfo, PemMaterial, X509Library } from './x509.js';
import { classifyKey, describeKey, signingProfile, SUPPORTED_CA_KEYS } from './certificate-keys.js';
import type { SigningProfile } from './certificate-keys.js';
import { checkInstanceUid, CsrRejectedError, describe, parseCsr, requestKey } from './certificate-requests.js';

export { CsrRejectedError, uuidsInText } from './certificate-requests.js';

/**
 * Signs the certificate signing requests agents send in the OpAMP
 * "agent-initiated CSR flow" (ConnectionSettingsRequest.opamp.certificate_request).
 * The library doing the X.509 work is loaded on the first request, never when
 * this module is imported: the poll handler imports it, and almost no poll
 * carries a CSR.
 */

export interface IssuedCertificate {
  /** The signed certificate, PEM. */
  certPem: string;
  /** The CA certificate, PEM: what TLSCertificate.ca_cert carries. */
  caPem: string;
  /** Hex SHA-256 of the issued certificate's DER encoding. */
  fingerprint: string;
  /** Hex. */
  serialNumber: string;
  subject: string;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  /** Hex SHA-256 of the CSR bytes as received, so that a retried request can be recognised. */
  csrDigest: string;
}

export interface CertificateAuthorityOptions {
  now: () => number;
  /** Validity of issued certificates (default 90 days); never beyond the CA's own notAfter. */
  validityMs?: number;
  /** Refuse CSRs that carry no instance uid at all (default false: only a uid that is present must match). */
  requireInstanceUid?: boolean;
  /** Largest CSR accepted, bytes (default 16 KiB). */
  maxCsrBytes?: number;
}

export interface CertificateAuthority {
  readonly caPem: string;
  readonly info: CertificateInfo;
  /**
   * Signs an agent's CSR for the agent with this instance uid (canonical
   * UUID text). Throws CsrRejectedError, with one readable line, for a CSR
   * that cannot be signed.
   */
  sign(csr: Uint8Array | string, instanceUid: string): Promise<IssuedCertificate>;
}

export const DEFAULT_CERTIFICATE_VALIDITY_MS = 90 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_CSR_BYTES = 16 * 1024;
/** How far back notBefore is set, so that an agent whose clock is a little behind accepts its certificate at once. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const SERIAL_NUMBER_BYTES = 16;

function validateOptions(options: CertificateAuthorityOptions): Required<Omit<CertificateAuthorityOptions, 'now'>> {
  const validityMs = options.validityMs ?? DEFAULT_CERTIFICATE_VALIDITY_MS;
  const maxCsrBytes = options.maxCsrBytes ?? DEFAULT_MAX_CSR_BYTES;
  if (!Number.isFinite(validityMs) || validityMs <= 0) {
    throw new RangeError(`validityMs must be a positive number of milliseconds, got ${validityMs}`);
  }
  if (!Number.isInteger(maxCsrBytes) || maxCsrBytes <= 0) {
    throw new RangeError(`maxCsrBytes must be a positive integer, got ${maxCsrBytes}`);
  }
  return { validityMs, maxCsrBytes, requireInstanceUid: options.requireInstanceUid ?? false };
}

/**
 * Validates the CA material and returns a signer: the certificate must parse
 * and be a CA (basicConstraints cA=true, keyCertSign if it restricts key
 * usage), the key must be present, match it and be of a supported type.
 * Throws CertificateMaterialError naming what is wrong.
 */
export async function loadCertificateAuthority(material: PemMaterial, options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  const settings = validateOptions(options);
  const x509 = await loadX509();
  const certificate = await readCertificate(material.cert, 'CA certificate');
  const info = certificateInfo(certificate);
  if (!info.isCa) {
    throw new CertificateMaterialError(`the certificate "${info.subject}" is not a CA: it has no basicConstraints extension with cA=true`);
  }
  const keyUsage = certificate.getExtension<X509.KeyUsagesExtension>(KEY_USAGE_OID);
  if (keyUsage && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new CertificateMaterialError(`the CA certificate "${info.subject}" may not sign certificates: its keyUsage lacks keyCertSign`);
  }
  if (material.key === undefined || material.key.trim() === '') {
    throw new CertificateMaterialError(`the CA private key is missing: give the PKCS#8 PEM key of "${info.subject}"`);
  }
  const key = readPrivateKey(material.key, 'CA private key');
  assertKeyMatchesCertificate(key, certificate, 'CA private key');
  const keyClass = classifyKey(key);
  const profile = keyClass && signingProfile(keyClass);
  if (!profile) {
    throw new CertificateMaterialError(`the CA key is ${describeKey(key)}; supported CA keys are ${SUPPORTED_CA_KEYS}`);
  }
  // Chain building in some TLS stacks (Go's among them) finds a certificate's
  // issuer by comparing the issuer name's bytes with the CA subject's bytes.
  // The generator re-encodes the parsed name; refuse a CA whose subject would
  // not come out byte for byte, rather than issue certificates that fail later.
  const issuerName = Buffer.from(certificate.subjectName.toArrayBuffer());
  if (!Buffer.from(certificate.rawData).includes(issuerName)) {
    throw new CertificateMaterialError(`the CA certificate's subject "${info.subject}" uses an encoding this server cannot reproduce exactly in issued certificates`);
  }
  const signingKey = await webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), profile.importParams, false, ['sign']);
  // The authority key identifier must repeat the CA's own subject key
  // identifier when it has one: that is what verifiers match on.
  const caKeyId = certificate.getExtension<X509.SubjectKeyIdentifierExtension>(SUBJECT_KEY_IDENTIFIER_OID);
  const authorityKeyIdentifier = caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId, false) : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey, false);
  return new AgentCertificateAuthority(x509, certificate, info, signingKey, profile, authorityKeyIdentifier, options.now, settings);
}

class AgentCertificateAuthority implements CertificateAuthority {
  readonly caPem: string;

  constructor(
    private readonly x509: X509Library,
    private readonly certificate: X509.X509Certificate,
    readonly info: CertificateInfo,
    private readonly signingKey: webcrypto.CryptoKey,
    private readonly profile: SigningProfile,
    private readonly authorityKeyIdentifier: X509.AuthorityKeyIdentifierExtension,
    private readonly now: () => number,
    private readonly settings: Required<Omit<CertificateAuthorityOptions, 'now'>>,
  ) {
    this.caPem = pemText(certificate);
  }

  async sign(csr: Uint8Array | string, instanceUid: string): Promise<IssuedCertificate> {
    const agentUid = instanceUid.toLowerCase();
    if (!isCanonicalInstanceUid(agentUid)) {
      throw new RangeError(`instance uid must be canonical UUID text, got "${instanceUid}"`);
    }
    const bytes = typeof csr === 'string' ? new TextEncoder().encode(csr) : csr;
    if (bytes.byteLength > this.settings.maxCsrBytes) {
      throw new CsrRejectedError(`the CSR is ${bytes.byteLength} bytes, more than the ${this.settings.maxCsrBytes} accepted`);
    }
    const csrDigest = sha256(bytes).toString('hex');
    const request = parseCsr(this.x509, bytes);
    const agentKey = requestKey(request);
    let verified: boolean;
    try {
      verified = await request.verify();
    } catch (error) {
      throw new CsrRejectedError(`the CSR's signature could not be checked: ${describe(error)}`, { cause: error });
    }
    if (!verified) {
      throw new CsrRejectedError("the CSR's signature does not verify with the public key it carries");
    }
    checkInstanceUid(this.x509, request, agentUid, this.settings.requireInstanceUid);

    const now = this.now();
    if (now >= this.info.notAfter) {
      throw new CsrRejectedError(`the CA certificate expired at ${new Date(this.info.notAfter).toISOString()}; no certificate can be issued`);
    }
    if (now < this.info.notBefore) {
      throw new CsrRejectedError(`the CA certificate is not valid before ${new Date(this.info.notBefore).toISOString()}; no certificate can be issued`);
    }
    const notBefore = wholeSeconds(now - CLOCK_SKEW_MS);
    const notAfter = wholeSeconds(Math.min(now + this.settings.validityMs, this.info.notAfter));

    const x509 = this.x509;
    const subjectIsEmpty = request.subjectName.toJSON().length === 0;
    const usages = x509.KeyUsageFlags.digitalSignature | (agentKey.kind === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      subject: request.subjectName,
      issuer: this.certificate.subjectName,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: request.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: this.profile.signingAlgorithm,
      // Nothing the CSR asks for beyond its subject and key is copied: not its
      // key usages or basic constraints, and not its subjectAltNames. The
      // server vouches only for what it checked, the agent's instance uid,
      // which the URI below states; a DNS name or address the agent asked for
      // has not been checked by anyone. RFC 5280 wants the subjectAltName
      // critical when the subject is empty.
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        await x509.SubjectKeyIdentifierExtension.create(request.publicKey, false),
        this.authorityKeyIdentifier,
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:uuid:${agentUid}` }], subjectIsEmpty),
      ],
    });
    const info = certificateInfo(certificate);
    return {
      certPem: pemText(certificate),
      caPem: this.caPem,
      fingerprint: info.fingerprint,
      serialNumber: certificate.serialNumber,
      subject: info.subject,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      csrDigest,
    };
  }
}

function pemText(certificate: X509.X509Certificate): string {
  return `${certificate.toString('pem')}\n`;
}

/** X.509 times have a resolution of one second. */
function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** 16 random bytes, high bit clear so that the DER integer is positive, first byte non-zero so that it is minimal. */
function randomSerialNumber(): string {
  const bytes = randomBytes(SERIAL_NUMBER_BYTES);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}
