import { createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { sha256 } from '../core/canonical-hash.js';
import { RejectedRequestError } from '../core/errors.js';
import { isCanonicalInstanceUid } from '../core/instance-uid.js';
import {
  assertKeyMatchesCertificate,
  CertificateMaterialError,
  certificateInfo,
  KEY_USAGE_OID,
  loadX509,
  readCertificate,
  readPrivateKey,
  SUBJECT_ALT_NAME_OID,
  SUBJECT_KEY_IDENTIFIER_OID,
} from './x509.js';
import type { CertificateInfo, PemMaterial, X509Library } from './x509.js';

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

/** A CSR the server will not sign; the message says why in one line. */
export class CsrRejectedError extends RejectedRequestError {
  override readonly name = 'CsrRejectedError';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid', 'csr-rejected', message, options);
  }
}

export const DEFAULT_CERTIFICATE_VALIDITY_MS = 90 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_CSR_BYTES = 16 * 1024;
/** How far back notBefore is set, so that an agent whose clock is a little behind accepts its certificate at once. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** `openssl req` writes "CERTIFICATE REQUEST"; some older tools "NEW CERTIFICATE REQUEST". */
const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];
const SERIAL_NUMBER_BYTES = 16;

/** The key types the server signs with and signs for, by what Node reports of a key. */
type KeyClass =
  | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521'; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }
  | { kind: 'rsa'; bits: number }
  | { kind: 'ed25519' };

const CURVES: Record<string, { curve: 'P-256' | 'P-384' | 'P-521'; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
  secp521r1: { curve: 'P-521', hash: 'SHA-512' },
};
const MIN_RSA_BITS = 2048;
const SUPPORTED_CA_KEYS = `ECDSA P-256, P-384 or P-521, or RSA of at least ${MIN_RSA_BITS} bits`;
const SUPPORTED_AGENT_KEYS = `ECDSA P-256, P-384 or P-521, RSA of at least ${MIN_RSA_BITS} bits, or Ed25519`;

function classifyKey(key: KeyObject): KeyClass | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      return curve ? { kind: 'ec', ...curve } : undefined;
    }
    case 'rsa':
      return (details.modulusLength ?? 0) >= MIN_RSA_BITS ? { kind: 'rsa', bits: details.modulusLength ?? 0 } : undefined;
    case 'ed25519':
      return { kind: 'ed25519' };
    default:
      return undefined;
  }
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return `an EC key on curve ${details.namedCurve ?? 'unknown'}`;
    case 'rsa':
      return `a ${details.modulusLength ?? '?'}-bit RSA key`;
    case 'rsa-pss':
      return 'an RSA-PSS key';
    default:
      return `a key of type ${key.asymmetricKeyType ?? 'unknown'}`;
  }
}

interface SigningProfile {
  importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  /** Handed to the certificate generator; fixes the certificate's signatureAlgorithm. */
  signingAlgorithm: { name: string; hash: string };
}

function signingProfile(key: KeyClass): SigningProfile | undefined {
  switch (key.kind) {
    case 'ec':
      return { importParams: { name: 'ECDSA', namedCurve: key.curve }, signingAlgorithm: { name: 'ECDSA', hash: key.hash } };
    case 'rsa':
      return {
        importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      };
    default:
      return undefined;
  }
}

/** An underlying error's message, kept to one line. */
function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

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
  const authorityKeyIdentifier = caKeyId
    ? new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey, false);
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
      throw new CsrRejectedError('the CSR\'s signature does not verify with the public key it carries');
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
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

function parseCsr(x509: X509Library, bytes: Uint8Array): X509.Pkcs10CertificateRequest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CsrRejectedError('the CSR is not PEM text: it is not even valid UTF-8');
  }
  let blocks: X509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch (error) {
    throw new CsrRejectedError(`the CSR is not readable PEM: ${describe(error)}`, { cause: error });
  }
  const requests = blocks.filter((block) => CSR_LABELS.includes(block.type));
  const [only] = requests;
  if (requests.length > 1) {
    throw new CsrRejectedError(`the CSR text holds ${requests.length} certificate requests; send exactly one`);
  }
  if (!only) {
    const found = blocks.length > 0 ? `got "${blocks.map((b) => b.type).join('", "')}"` : 'found no PEM block';
    throw new CsrRejectedError(`the CSR must be PEM beginning with "-----BEGIN CERTIFICATE REQUEST-----", ${found}`);
  }
  try {
    return new x509.Pkcs10CertificateRequest(only.rawData);
  } catch (error) {
    throw new CsrRejectedError(`the CSR is not a decodable PKCS#10 request: ${describe(error)}`, { cause: error });
  }
}

function requestKey(request: X509.Pkcs10CertificateRequest): KeyClass {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CsrRejectedError(`the CSR's public key is of a type this server cannot read; use ${SUPPORTED_AGENT_KEYS}`, { cause: error });
  }
  const keyClass = classifyKey(key);
  if (!keyClass) {
    throw new CsrRejectedError(`the CSR's public key is ${describeKey(key)}; supported keys are ${SUPPORTED_AGENT_KEYS}`);
  }
  return keyClass;
}

const CANONICAL_UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Bounded by non-hex characters, so that a longer hex string (a SHA-256, say) is not taken for a uid. */
const PLAIN_HEX_UUIDS = /(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/gi;

/** Every UUID-looking value in a text, as canonical lower-case UUID text. */
export function uuidsInText(text: string): string[] {
  const canonical = [...text.matchAll(CANONICAL_UUIDS)].map((match) => match[0].toLowerCase());
  const plain = [...text.matchAll(PLAIN_HEX_UUIDS)].map((match) => {
    const hex = match[0].toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  });
  return [...canonical, ...plain];
}

/**
 * The texts of a CSR where an agent may have put its instance uid: every
 * subject attribute value, whatever its type, and every subjectAltName.
 */
function uidBearingTexts(x509: X509Library, request: X509.Pkcs10CertificateRequest): string[] {
  const texts: string[] = [];
  for (const rdn of request.subjectName.toJSON()) {
    for (const value of Object.values(rdn).flat()) {
      texts.push(value);
      // The library shows values of string types it does not model
      // (VisibleString, NumericString, ...) as "#" and the hex of their DER.
      const encoded = /^#((?:[0-9a-f]{2})+)$/i.exec(value)?.[1];
      if (encoded) texts.push(derContentText(Buffer.from(encoded, 'hex')));
    }
  }
  let sanExtensions: X509.Extension[];
  try {
    sanExtensions = request.getExtensions(SUBJECT_ALT_NAME_OID);
  } catch (error) {
    throw new CsrRejectedError(`the CSR's requested extensions could not be decoded: ${describe(error)}`, { cause: error });
  }
  for (const extension of sanExtensions) {
    try {
      const names = new x509.SubjectAlternativeNameExtension(extension.rawData).names;
      texts.push(...names.items.map((name) => name.value));
    } catch (error) {
      throw new CsrRejectedError(`the CSR's subjectAltName could not be decoded: ${describe(error)}`, { cause: error });
    }
    // The library silently leaves out names it cannot represent (an otherName
    // of a type it does not know, an X.400 address); reading the encoded
    // extension as text as well finds a uid written in one of those.
    texts.push(Buffer.from(extension.value).toString('latin1'));
  }
  return texts;
}

/** The content of one DER value as Latin-1 text, its tag and length left out. */
function derContentText(der: Buffer): string {
  const lengthByte = der[1] ?? 0;
  const headerLength = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f);
  return der.subarray(headerLength).toString('latin1');
}

/**
 * The OpAMP specification has the server check that the instance uid in the
 * CSR matches the agent's, without saying where the CSR holds it. Any
 * UUID-looking value in the subject or the subjectAltNames is taken for one,
 * and every one must be the agent's.
 */
function checkInstanceUid(x509: X509Library, request: X509.Pkcs10CertificateRequest, agentUid: string, required: boolean): void {
  const found = new Set(uidBearingTexts(x509, request).flatMap(uuidsInText));
  const foreign = [...found].find((uid) => uid !== agentUid);
  if (foreign !== undefined) {
    throw new CsrRejectedError(`the CSR names instance uid ${foreign}, but the agent's instance uid is ${agentUid}`);
  }
  if (found.size === 0 && required) {
    throw new CsrRejectedError(`the CSR carries no instance uid; put ${agentUid} in its subject (e.g. CN) or as a urn:uuid: URI subjectAltName`);
  }
}
