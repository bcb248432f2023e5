import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { sha256 } from '../core/canonical-hash.js';
import { errorText, RejectedRequestError } from '../core/errors.js';

/** The `@peculiar/x509` module, once loaded and wired to Node's WebCrypto. */
export type X509Library = typeof X509;

let library: Promise<X509Library> | undefined;

/**
 * Loads `@peculiar/x509` on first use. The function answering agent polls
 * imports this module, and almost no poll carries a certificate request, so
 * the library (and the `reflect-metadata` polyfill its dependency injection
 * needs before it is evaluated) is never imported statically: a cold start
 * does not pay for it.
 */
export function loadX509(): Promise<X509Library> {
  library ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    // Node's WebCrypto is the standard `Crypto`; only its type comes from elsewhere.
    x509.cryptoProvider.set(webcrypto as unknown as ReturnType<X509.CryptoProvider['get']>);
    return x509;
  })().catch((error: unknown) => {
    // A failed load (a missing file in a broken deployment) is not remembered,
    // so that the next request reports the error again rather than a stale one.
    library = undefined;
    throw error;
  });
  return library;
}

/** PEM text as an operator keeps it: a certificate, optionally its private key and CA certificates. */
export interface PemMaterial {
  cert: string;
  key?: string | undefined;
  ca?: string | undefined;
}

export interface CertificateInfo {
  /** Hex SHA-256 of the certificate's DER encoding. */
  fingerprint: string;
  /** RFC 4514-style text, e.g. `CN=agent, O=Example`. */
  subject: string;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  /** The basicConstraints extension says cA=true. */
  isCa: boolean;
}

/** Certificate or key material that cannot be used as given. */
export class CertificateMaterialError extends RejectedRequestError {
  override readonly name = 'CertificateMaterialError';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid', 'invalid-certificate', message, options);
  }
}

const CERTIFICATE_LABEL = 'CERTIFICATE';
/** The private key forms Node reads without a passphrase: PKCS#8, SEC 1 and PKCS#1. */
const PRIVATE_KEY_LABELS = ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'];
const TO_PKCS8 = 'openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pkcs8.pem';

const BASIC_CONSTRAINTS_OID = '2.5.29.19';
export const KEY_USAGE_OID = '2.5.29.15';
export const SUBJECT_KEY_IDENTIFIER_OID = '2.5.29.14';
export const SUBJECT_ALT_NAME_OID = '2.5.29.17';

/** The labels of the PEM blocks in a text, in order (`-----BEGIN <label>-----`). */
function pemLabels(text: string): string[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((match) => match[1] ?? '');
}

/** Every certificate in a PEM text, in order; `what` names the text in error messages. */
async function readCertificates(pem: string, what = 'certificate'): Promise<X509.X509Certificate[]> {
  const x509 = await loadX509();
  let blocks: X509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(pem);
  } catch (error) {
    throw new CertificateMaterialError(`the ${what} is not readable PEM: ${errorText(error)}`, { cause: error });
  }
  const certificates = blocks.filter((block) => block.type === CERTIFICATE_LABEL);
  if (certificates.length === 0) {
    const found = blocks.length > 0 ? `found ${blocks.map((b) => b.type).join(', ')}` : 'found no PEM block';
    throw new CertificateMaterialError(`the ${what} must be PEM beginning with "-----BEGIN CERTIFICATE-----", ${found}`);
  }
  return certificates.map((block, index) => {
    try {
      return new x509.X509Certificate(block.rawData);
    } catch (error) {
      const which = certificates.length > 1 ? ` (block ${index + 1})` : '';
      throw new CertificateMaterialError(`the ${what}${which} is not a decodable X.509 certificate: ${errorText(error)}`, { cause: error });
    }
  });
}

export async function readCertificate(pem: string, what = 'certificate'): Promise<X509.X509Certificate> {
  const [first] = await readCertificates(pem, what);
  // readCertificates returns at least one certificate or throws.
  return first as X509.X509Certificate;
}

export function certificateInfo(certificate: X509.X509Certificate): CertificateInfo {
  const basicConstraints = certificate.getExtension<X509.BasicConstraintsExtension>(BASIC_CONSTRAINTS_OID);
  return {
    fingerprint: sha256(new Uint8Array(certificate.rawData)).toString('hex'),
    subject: certificate.subject,
    notBefore: certificate.notBefore.getTime(),
    notAfter: certificate.notAfter.getTime(),
    isCa: basicConstraints?.ca === true,
  };
}

/** Parses a PEM certificate (the first one if several). */
export async function inspectCertificate(pem: string): Promise<CertificateInfo> {
  return certificateInfo(await readCertificate(pem));
}

/** Reads an unencrypted PEM private key; `what` names it in error messages. */
export function readPrivateKey(pem: string, what = 'private key'): KeyObject {
  // `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key.
  const label = pemLabels(pem).find((l) => l !== 'EC PARAMETERS');
  if (label === undefined) {
    throw new CertificateMaterialError(`the ${what} must be PEM beginning with "-----BEGIN PRIVATE KEY-----" (PKCS#8)`);
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new CertificateMaterialError(`the ${what} is encrypted; store it unencrypted as PKCS#8: openssl pkcs8 -topk8 -nocrypt -in encrypted.pem -out key.pem`);
  }
  if (!PRIVATE_KEY_LABELS.includes(label)) {
    throw new CertificateMaterialError(`the ${what} is a "${label}" block; expected "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" or "RSA PRIVATE KEY". Convert it with: ${TO_PKCS8}`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new CertificateMaterialError(`the ${what} ("${label}") could not be read: ${errorText(error)}. Convert it to PKCS#8 with: ${TO_PKCS8}`, { cause: error });
  }
}

/** A public key as DER SubjectPublicKeyInfo, re-encoded by Node so that equal keys give equal bytes. */
function normalisedSpki(key: KeyObject | ArrayBuffer | Uint8Array): Buffer {
  const publicKey =
    key instanceof ArrayBuffer || key instanceof Uint8Array
      ? createPublicKey({ key: Buffer.from(key instanceof ArrayBuffer ? new Uint8Array(key) : key), format: 'der', type: 'spki' })
      : createPublicKey(key);
  return publicKey.export({ format: 'der', type: 'spki' });
}

/** Throws unless the private key is the one whose public half the certificate carries. */
export function assertKeyMatchesCertificate(key: KeyObject, certificate: X509.X509Certificate, what = 'private key'): void {
  let certificateKey: Buffer;
  try {
    certificateKey = normalisedSpki(certificate.publicKey.rawData);
  } catch (error) {
    throw new CertificateMaterialError(`the certificate's public key is of a type this server cannot read: ${errorText(error)}`, { cause: error });
  }
  if (!normalisedSpki(key).equals(certificateKey)) {
    throw new CertificateMaterialError(`the ${what} does not match the certificate "${certificate.subject}": it belongs to another key pair`);
  }
}

/**
 * Checks a cert/key/ca triple an operator uploaded: the certificate parses,
 * the key (if given) is a readable private key matching it, the CA
 * certificates (if given) parse. Returns the certificate's description.
 */
export async function validatePemMaterial(material: PemMaterial): Promise<CertificateInfo> {
  const certificate = await readCertificate(material.cert, 'certificate');
  if (material.key !== undefined) {
    assertKeyMatchesCertificate(readPrivateKey(material.key, 'private key'), certificate);
  }
  if (material.ca !== undefined) {
    await readCertificates(material.ca, 'CA certificate');
  }
  return certificateInfo(certificate);
}
