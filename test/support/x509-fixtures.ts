import { createHash, createPublicKey, X509Certificate as NodeCertificate, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import type { JsonGeneralNames } from '@peculiar/x509';
import { loadX509 } from '../../functions/service/x509.js';

/**
 * Builders for X.509 test material: CAs, agent key pairs, CSRs, and a check
 * that an issued certificate chains to its CA. Everything is made at run time
 * from a few options, so that a test states the one property it is about.
 */

export type KeyKind = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519';

type KeyAlgorithm = webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm;
const KEY_ALGORITHMS: Record<KeyKind, { generate: KeyAlgorithm; sign: { name: string; hash?: string } }> = {
  'ec-p256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'ec-p384': { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  'rsa-2048': {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
  ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

export interface TestKeyPair {
  kind: KeyKind;
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  privateKeyPem: string;
  /** DER SubjectPublicKeyInfo, hex, as Node encodes it (comparable with `VerifiedCertificate.publicKeySpkiHex`). */
  publicKeySpkiHex: string;
}

export async function generateKeyPair(kind: KeyKind = 'ec-p256'): Promise<TestKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHMS[kind].generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  return { kind, keys, privateKeyPem: pem('PRIVATE KEY', pkcs8), publicKeySpkiHex: normalisedSpkiHex(spki) };
}

const shared = new Map<KeyKind, Promise<TestKeyPair>>();

/** One key pair per kind for the whole test file: 2048-bit RSA keys take a while to generate. */
export function sharedKeyPair(kind: KeyKind): Promise<TestKeyPair> {
  let pair = shared.get(kind);
  if (!pair) {
    pair = generateKeyPair(kind);
    shared.set(kind, pair);
  }
  return pair;
}

export interface TestCa {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  keyPair: TestKeyPair;
  subject: string;
  /** Ready for `loadCertificateAuthority`. */
  material: { cert: string; key: string };
}

export interface TestCaOptions {
  /** Default `ec-p256`; ignored when `keyPair` is given. */
  kind?: KeyKind;
  keyPair?: TestKeyPair;
  /** Default `CN=OpAMP Test CA, O=Example`. */
  subject?: string;
  /** Default an hour ago. */
  notBefore?: Date;
  /** Default ten years from now. */
  notAfter?: Date;
  /** Default true; false makes an end-entity certificate (basicConstraints cA=false). */
  isCa?: boolean;
}

/** A self-signed CA certificate and its key, as PEM. */
export async function createTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const x509 = await loadX509();
  const keyPair = options.keyPair ?? (await generateKeyPair(options.kind ?? 'ec-p256'));
  const isCa = options.isCa ?? true;
  const subject = options.subject ?? 'CN=OpAMP Test CA, O=Example';
  const usages = isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys: keyPair.keys,
    signingAlgorithm: KEY_ALGORITHMS[keyPair.kind].sign,
    notBefore: options.notBefore ?? new Date(Date.now() - 60 * 60 * 1000),
    notAfter: options.notAfter ?? new Date(Date.now() + 10 * 365 * 24 * 60 * 60 * 1000),
    extensions: [new x509.BasicConstraintsExtension(isCa, undefined, true), new x509.KeyUsagesExtension(usages, true), await x509.SubjectKeyIdentifierExtension.create(keyPair.keys.publicKey)],
  });
  const certPem = `${certificate.toString('pem')}\n`;
  return { certPem, keyPem: keyPair.privateKeyPem, keyPair, subject: certificate.subject, material: { cert: certPem, key: keyPair.privateKeyPem } };
}

export interface CsrOptions {
  /** Default a fresh P-256 key pair. */
  keyPair?: TestKeyPair;
  /** RFC 4514-style text, e.g. `CN=<uid>, O=Example`; OIDs are allowed as attribute types. Default empty. */
  subject?: string;
  /** E.g. `[{ type: 'url', value: 'urn:uuid:<uid>' }, { type: 'dns', value: 'agent.example' }]`. */
  subjectAltNames?: JsonGeneralNames;
}

/** A PEM PKCS#10 request signed with the key pair's private key. */
export async function createCsrPem(options: CsrOptions = {}): Promise<string> {
  const x509 = await loadX509();
  const keyPair = options.keyPair ?? (await generateKeyPair('ec-p256'));
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.subject ?? '',
    keys: keyPair.keys,
    signingAlgorithm: KEY_ALGORITHMS[keyPair.kind].sign,
    extensions: options.subjectAltNames ? [new x509.SubjectAlternativeNameExtension(options.subjectAltNames)] : [],
  });
  return `${request.toString('pem')}\n`;
}

/** The same PEM object with the last byte of its DER (inside the signature) changed. */
export function tamperSignature(pemText: string): string {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pemText);
  if (!match?.[1] || match[2] === undefined) throw new Error('no PEM block to tamper with');
  const der = Buffer.from(match[2].replace(/\s+/g, ''), 'base64');
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  return pem(match[1], der);
}

export interface VerifiedCertificate {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  /** Hex SHA-256 of the DER. */
  fingerprint: string;
  subjectAltNames: JsonGeneralNames;
  subjectAltNameCritical: boolean | undefined;
  /** OIDs, e.g. 1.3.6.1.5.5.7.3.2 for clientAuth. */
  extendedKeyUsages: string[];
  basicConstraints: { ca: boolean; pathLength: number | undefined; critical: boolean } | undefined;
  /** Names of the keyUsage bits set, e.g. `['digitalSignature']`. */
  keyUsage: { usages: string[]; critical: boolean } | undefined;
  subjectKeyIdentifier: string | undefined;
  authorityKeyIdentifier: string | undefined;
  publicKeySpkiHex: string;
  signatureAlgorithm: { name: string; hash: string | undefined };
  /** Hex DER of the subject name, exactly as encoded in the certificate. */
  subjectDerHex: string;
}

/**
 * Checks that a certificate was issued by a CA, using Node's OpenSSL-backed
 * X509Certificate rather than the library that produced it: the signature
 * verifies with the CA's key, OpenSSL's issuer check passes (issuer name,
 * key identifiers, the CA's key usage), and the issuer name is byte for byte
 * the CA's subject (what Go's chain builder compares). Throws an Error saying
 * which check failed; returns the certificate's content for assertions.
 */
export async function verifyCertificateChain(certPem: string, caPem: string): Promise<VerifiedCertificate> {
  const certificate = new NodeCertificate(certPem);
  const ca = new NodeCertificate(caPem);
  if (!certificate.verify(ca.publicKey)) throw new Error(`the signature of "${certificate.subject}" does not verify with the CA's key`);
  if (!certificate.checkIssued(ca)) throw new Error(`OpenSSL does not accept "${ca.subject}" as the issuer of "${certificate.subject}"`);
  const issuerDer = tbsField(certificate.raw, 'issuer');
  const caSubjectDer = tbsField(ca.raw, 'subject');
  if (!issuerDer.equals(caSubjectDer)) {
    throw new Error(`the issuer name is not encoded as the CA's subject: ${issuerDer.toString('hex')} vs ${caSubjectDer.toString('hex')}`);
  }

  const x509 = await loadX509();
  const parsed = new x509.X509Certificate(new Uint8Array(certificate.raw));
  const san = parsed.getExtension<X509.SubjectAlternativeNameExtension>('2.5.29.17');
  const eku = parsed.getExtension<X509.ExtendedKeyUsageExtension>('2.5.29.37');
  const basic = parsed.getExtension<X509.BasicConstraintsExtension>('2.5.29.19');
  const keyUsage = parsed.getExtension<X509.KeyUsagesExtension>('2.5.29.15');
  const ski = parsed.getExtension<X509.SubjectKeyIdentifierExtension>('2.5.29.14');
  const aki = parsed.getExtension<X509.AuthorityKeyIdentifierExtension>('2.5.29.35');
  // The library types algorithms with the DOM's `Algorithm`, which this project's Node-only lib settings lack.
  const algorithm = parsed.signatureAlgorithm as unknown as { name: string; hash?: { name: string } };
  const flags = x509.KeyUsageFlags;
  const usageNames = Object.keys(flags).filter((name) => Number.isNaN(Number(name)));
  return {
    subject: parsed.subject,
    issuer: parsed.issuer,
    serialNumber: parsed.serialNumber,
    notBefore: parsed.notBefore.getTime(),
    notAfter: parsed.notAfter.getTime(),
    fingerprint: createHash('sha256').update(certificate.raw).digest('hex'),
    subjectAltNames: san?.names.toJSON() ?? [],
    subjectAltNameCritical: san?.critical,
    extendedKeyUsages: (eku?.usages ?? []).map(String),
    basicConstraints: basic ? { ca: basic.ca, pathLength: basic.pathLength, critical: basic.critical } : undefined,
    keyUsage: keyUsage ? { usages: usageNames.filter((name) => (keyUsage.usages & flags[name as keyof typeof flags]) !== 0), critical: keyUsage.critical } : undefined,
    subjectKeyIdentifier: ski?.keyId,
    authorityKeyIdentifier: aki?.keyId,
    publicKeySpkiHex: normalisedSpkiHex(Buffer.from(parsed.publicKey.rawData)),
    signatureAlgorithm: { name: algorithm.name, hash: algorithm.hash?.name },
    subjectDerHex: tbsField(certificate.raw, 'subject').toString('hex'),
  };
}

/** Hex SHA-256 of the DER inside a PEM text (its first block). */
export function pemDigest(pemText: string): string {
  return createHash('sha256').update(pemDer(pemText)).digest('hex');
}

/** The DER inside a PEM text (its first block). */
export function pemDer(pemText: string): Buffer {
  const body = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END/.exec(pemText)?.[1];
  if (body === undefined) throw new Error('no PEM block');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function normalisedSpkiHex(spki: Buffer): string {
  return createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' }).toString('hex');
}

/**
 * The encoded issuer or subject of a certificate, read from its DER directly
 * (not re-encoded by a parser): Certificate ::= SEQUENCE { tbsCertificate
 * SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
 * subject, ... }, ... }.
 */
function tbsField(certificateDer: Buffer, field: 'issuer' | 'subject'): Buffer {
  const [tbs] = derChildren(certificateDer, 0);
  if (!tbs) throw new Error('not a certificate');
  const fields = derChildren(certificateDer, tbs.start);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const found = fields[offset + (field === 'issuer' ? 2 : 4)];
  if (!found) throw new Error(`certificate has no ${field}`);
  return certificateDer.subarray(found.start, found.end);
}

/** The TLVs inside the constructed DER value that starts at `at`. */
function derChildren(der: Buffer, at: number): Array<{ tag: number; start: number; end: number }> {
  const outer = derHeader(der, at);
  const children: Array<{ tag: number; start: number; end: number }> = [];
  for (let position = outer.contentStart; position < outer.end; ) {
    const child = derHeader(der, position);
    children.push({ tag: der[position] ?? 0, start: position, end: child.end });
    position = child.end;
  }
  return children;
}

function derHeader(der: Buffer, at: number): { contentStart: number; end: number } {
  const first = der[at + 1] ?? 0;
  if (first < 0x80) return { contentStart: at + 2, end: at + 2 + first };
  const lengthBytes = first & 0x7f;
  const length = der.subarray(at + 2, at + 2 + lengthBytes).reduce((sum, byte) => sum * 256 + byte, 0);
  return { contentStart: at + 2 + lengthBytes, end: at + 2 + lengthBytes + length };
}
