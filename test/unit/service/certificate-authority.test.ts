import { createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { RejectedRequestError } from '../../../functions/core/errors.js';
import { CsrRejectedError, loadCertificateAuthority } from '../../../functions/service/certificate-authority.js';
import type { CertificateAuthorityOptions } from '../../../functions/service/certificate-authority.js';
import { CertificateMaterialError, inspectCertificate, loadX509, validatePemMaterial } from '../../../functions/service/x509.js';
import type { X509Library } from '../../../functions/service/x509.js';
import { createCsrPem, createTestCa, generateKeyPair, pemDer, pemDigest, tamperSignature, verifyCertificateChain } from '../../support/x509-fixtures.js';
import type { KeyKind, TestCa, TestKeyPair } from '../../support/x509-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const UID = '0b3e5c1a-8f4d-4c2e-9a7b-1234567890ab';
const OTHER_UID = '7d1f0e52-3c4b-4a8e-b9f0-aabbccddeeff';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const CA_VALIDITY = { notBefore: new Date(T0 - 365 * DAY), notAfter: new Date(T0 + 5 * 365 * DAY) };

/** Key pairs made once for the file: 2048-bit RSA generation is slow. */
const keys = {} as Record<'ecCa' | 'ec384Ca' | 'rsaCa' | 'ecAgent' | 'rsaAgent' | 'edAgent', TestKeyPair>;
/** The CA most tests sign with: P-256, valid around T0. */
let ecCa: TestCa;

beforeAll(async () => {
  const kinds: Record<keyof typeof keys, KeyKind> = {
    ecCa: 'ec-p256',
    ec384Ca: 'ec-p384',
    rsaCa: 'rsa-2048',
    ecAgent: 'ec-p256',
    rsaAgent: 'rsa-2048',
    edAgent: 'ed25519',
  };
  await Promise.all(
    Object.entries(kinds).map(async ([name, kind]) => {
      keys[name as keyof typeof keys] = await generateKeyPair(kind);
    }),
  );
  ecCa = await createTestCa({ keyPair: keys.ecCa, ...CA_VALIDITY });
});

function authority(ca: TestCa, options: Partial<CertificateAuthorityOptions> = {}) {
  return loadCertificateAuthority(ca.material, { now: () => T0, ...options });
}

/** What the library's CSR generator takes; its key and algorithm types are the DOM's, which this project's lib settings lack. */
type CsrParams = Parameters<X509Library['Pkcs10CertificateRequestGenerator']['create']>[0];

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<RejectedRequestError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RejectedRequestError)) throw new Error(`expected a RejectedRequestError, got ${String(error)}`);
  return error;
}

/** DER type-length-value, to build the few encodings the library cannot produce. */
function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

describe('CertificateAuthority.sign', () => {
  const pairs: Array<[string, keyof typeof keys, keyof typeof keys, { name: string; hash: string | undefined }, string[]]> = [
    ['EC CA, EC agent key', 'ecCa', 'ecAgent', { name: 'ECDSA', hash: 'SHA-256' }, ['digitalSignature']],
    ['EC CA, RSA agent key', 'ecCa', 'rsaAgent', { name: 'ECDSA', hash: 'SHA-256' }, ['digitalSignature', 'keyEncipherment']],
    ['RSA CA, EC agent key', 'rsaCa', 'ecAgent', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['digitalSignature']],
    ['RSA CA, RSA agent key', 'rsaCa', 'rsaAgent', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['digitalSignature', 'keyEncipherment']],
    ['P-384 CA, Ed25519 agent key', 'ec384Ca', 'edAgent', { name: 'ECDSA', hash: 'SHA-384' }, ['digitalSignature']],
  ];
  it.each(pairs)("issues a certificate that chains to the CA, for the CSR's subject and key (%s)", async (_, caKey, agentKey, signature, usages) => {
    // Prepare
    const ca = await createTestCa({ keyPair: keys[caKey], ...CA_VALIDITY });
    const csr = await createCsrPem({ keyPair: keys[agentKey], subject: `CN=${UID}, O=Example` });

    // Act
    const issued = await (await authority(ca)).sign(csr, UID);

    // Assess
    const cert = await verifyCertificateChain(issued.certPem, ca.certPem);
    expect(cert.issuer).toBe(ca.subject);
    expect(cert.subject).toBe(`CN=${UID}, O=Example`);
    expect(issued.subject).toBe(cert.subject);
    expect(cert.publicKeySpkiHex).toBe(keys[agentKey].publicKeySpkiHex);
    expect(cert.signatureAlgorithm).toEqual(signature);
    expect(cert.keyUsage).toEqual({ usages, critical: true });
  });

  it("marks the certificate for client authentication only, not as a CA, naming only the agent's uid", async () => {
    // Prepare
    const csr = await createCsrPem({
      keyPair: keys.ecAgent,
      subject: 'CN=collector',
      subjectAltNames: [
        { type: 'url', value: `urn:uuid:${UID}` },
        { type: 'dns', value: 'bank.example' },
        { type: 'url', value: 'https://bank.example' },
      ],
    });
    const caView = await verifyCertificateChain(ecCa.certPem, ecCa.certPem);

    // Act
    const issued = await (await authority(ecCa)).sign(csr, UID);

    // Assess
    const cert = await verifyCertificateChain(issued.certPem, ecCa.certPem);
    expect(cert.extendedKeyUsages).toEqual([CLIENT_AUTH]);
    expect(cert.basicConstraints).toEqual({ ca: false, pathLength: undefined, critical: true });
    expect(cert.subjectAltNames).toEqual([{ type: 'url', value: `urn:uuid:${UID}` }]);
    expect(cert.subjectAltNameCritical).toBe(false);
    expect(cert.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.authorityKeyIdentifier).toBe(caView.subjectKeyIdentifier);
  });

  it('adds the uid subjectAltName to a CSR without one, critical when the subject is empty', async () => {
    // Prepare
    const ca = await authority(ecCa);
    const named = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });
    const anonymous = await createCsrPem({ keyPair: keys.ecAgent });

    // Act
    const namedCert = await verifyCertificateChain((await ca.sign(named, UID)).certPem, ecCa.certPem);
    const anonymousCert = await verifyCertificateChain((await ca.sign(anonymous, UID)).certPem, ecCa.certPem);

    // Assess
    expect(namedCert.subjectAltNames).toEqual([{ type: 'url', value: `urn:uuid:${UID}` }]);
    expect(namedCert.subjectAltNameCritical).toBe(false);
    expect(anonymousCert.subject).toBe('');
    expect(anonymousCert.subjectAltNames).toEqual([{ type: 'url', value: `urn:uuid:${UID}` }]);
    expect(anonymousCert.subjectAltNameCritical).toBe(true);
  });

  it('is valid from five minutes before now, for 90 days by default or the validity configured', async () => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });

    // Act
    const byDefault = await (await authority(ecCa)).sign(csr, UID);
    const oneDay = await (await authority(ecCa, { validityMs: DAY })).sign(csr, UID);

    // Assess
    const cert = await verifyCertificateChain(byDefault.certPem, ecCa.certPem);
    expect([cert.notBefore, cert.notAfter]).toEqual([T0 - 5 * MINUTE, T0 + 90 * DAY]);
    expect([byDefault.notBefore, byDefault.notAfter]).toEqual([T0 - 5 * MINUTE, T0 + 90 * DAY]);
    expect(oneDay.notAfter).toBe(T0 + DAY);
  });

  it('never outlives the CA', async () => {
    // Prepare
    const caNotAfter = T0 + 10 * DAY;
    const ca = await createTestCa({ keyPair: keys.ecCa, notBefore: CA_VALIDITY.notBefore, notAfter: new Date(caNotAfter) });
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });

    // Act
    const issued = await (await authority(ca)).sign(csr, UID);

    // Assess
    expect(issued.notAfter).toBe(caNotAfter);
    expect((await verifyCertificateChain(issued.certPem, ca.certPem)).notAfter).toBe(caNotAfter);
  });

  it('returns the CA certificate, the digests of the CSR and of the certificate, and a random serial number', async () => {
    // Prepare
    const ca = await authority(ecCa);
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });
    const csrBytes = new TextEncoder().encode(csr);

    // Act
    const fromBytes = await ca.sign(csrBytes, UID);
    const fromText = await ca.sign(csr, UID);

    // Assess
    expect(pemDer(fromBytes.caPem).equals(pemDer(ecCa.certPem))).toBe(true);
    expect(ca.caPem).toBe(fromBytes.caPem);
    expect(fromBytes.csrDigest).toBe(createHash('sha256').update(csrBytes).digest('hex'));
    expect(fromText.csrDigest).toBe(fromBytes.csrDigest);
    expect(fromBytes.fingerprint).toBe(pemDigest(fromBytes.certPem));
    const cert = await verifyCertificateChain(fromBytes.certPem, ecCa.certPem);
    expect(fromBytes.serialNumber).toBe(cert.serialNumber);
    expect(fromBytes.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(fromText.serialNumber).not.toBe(fromBytes.serialNumber);
  });
});

describe('CertificateAuthority.sign: the instance uid', () => {
  const hex = UID.replaceAll('-', '');
  const accepted: Array<[string, { subject?: string; sans?: Array<{ type: 'url' | 'dns'; value: string }> }]> = [
    ['in the CN', { subject: `CN=${UID}` }],
    ['in the CN, upper case', { subject: `CN=${UID.toUpperCase()}` }],
    ['in a urn:uuid: URI subjectAltName', { subject: 'CN=collector', sans: [{ type: 'url', value: `urn:uuid:${UID}` }] }],
    ['in a urn:opamp:instance: URI subjectAltName', { sans: [{ type: 'url', value: `urn:opamp:instance:${UID}` }] }],
    ['as 32 hex digits in the serialNumber attribute', { subject: `CN=collector, 2.5.4.5=${hex}` }],
    ['as 32 hex digits inside a UID attribute', { subject: `0.9.2342.19200300.100.1.1=agent-${hex.toUpperCase()}` }],
    ['as 32 hex digits in a DNS subjectAltName', { sans: [{ type: 'dns', value: `${hex}.agents.example` }] }],
    ['in the CN and in a URI subjectAltName', { subject: `CN=${UID}`, sans: [{ type: 'url', value: `urn:uuid:${UID}` }] }],
  ];
  it.each(accepted)("accepts the agent's uid %s", async (_, { subject, sans }) => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.ecAgent, ...(subject ? { subject } : {}), ...(sans ? { subjectAltNames: sans } : {}) });

    // Act
    const issued = await (await authority(ecCa, { requireInstanceUid: true })).sign(csr, UID);

    // Assess
    expect((await verifyCertificateChain(issued.certPem, ecCa.certPem)).subjectAltNames).toEqual([{ type: 'url', value: `urn:uuid:${UID}` }]);
  });

  const foreign: Array<[string, { subject?: string; sans?: Array<{ type: 'url' | 'dns'; value: string }> }]> = [
    ['in the CN', { subject: `CN=${OTHER_UID}` }],
    ['in a URI subjectAltName', { subject: 'CN=collector', sans: [{ type: 'url', value: `urn:uuid:${OTHER_UID}` }] }],
    ['as 32 hex digits in an OU', { subject: `CN=collector, OU=${OTHER_UID.replaceAll('-', '')}` }],
    ["next to the agent's own", { subject: `CN=${UID}`, sans: [{ type: 'url', value: `urn:uuid:${OTHER_UID}` }] }],
    // "#..." makes the library encode a VisibleString, a type it reads back only as hex.
    ['in a VisibleString attribute', { subject: `CN=collector, OU=#1a24${Buffer.from(OTHER_UID).toString('hex')}` }],
  ];
  it.each(foreign)('rejects another uid %s, naming both', async (_, { subject, sans }) => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.ecAgent, ...(subject ? { subject } : {}), ...(sans ? { subjectAltNames: sans } : {}) });

    // Act
    const error = await rejection((await authority(ecCa)).sign(csr, UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.code).toBe('csr-rejected');
    expect(error.message).toBe(`the CSR names instance uid ${OTHER_UID}, but the agent's instance uid is ${UID}`);
  });

  it('rejects another uid in a subjectAltName the library leaves out (an otherName of an unknown type)', async () => {
    // Prepare
    const x509 = await loadX509();
    const otherName = tlv(0xa0, tlv(0x06, Buffer.from([0x2a, 0x03, 0x04])), tlv(0xa0, tlv(0x0c, Buffer.from(OTHER_UID))));
    const san = new x509.Extension('2.5.29.17', false, tlv(0x30, otherName));
    const request = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=collector',
      keys: keys.ecAgent.keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as CsrParams['signingAlgorithm'],
      extensions: [san],
    });
    expect(request.getExtension('2.5.29.17')).not.toBeNull();

    // Act
    const error = await rejection((await authority(ecCa)).sign(request.toString('pem'), UID));

    // Assess
    expect(error.message).toContain(OTHER_UID);
  });

  it('accepts a CSR without any uid by default, and rejects it when a uid is required', async () => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector, O=Example', subjectAltNames: [{ type: 'dns', value: 'collector.example' }] });

    // Act
    const issued = await (await authority(ecCa)).sign(csr, UID);
    const error = await rejection((await authority(ecCa, { requireInstanceUid: true })).sign(csr, UID));

    // Assess
    expect((await verifyCertificateChain(issued.certPem, ecCa.certPem)).subjectAltNames).toEqual([{ type: 'url', value: `urn:uuid:${UID}` }]);
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toMatch(/carries no instance uid/);
    expect(error.message).toContain(UID);
  });
});

describe('CertificateAuthority.sign: rejected requests', () => {
  it('rejects bytes that are not text, and text that is not PEM', async () => {
    // Prepare
    const ca = await authority(ecCa);

    // Act
    const binary = await rejection(ca.sign(new Uint8Array([0x30, 0x82, 0xff, 0xfe, 0x00, 0x9c]), UID));
    const text = await rejection(ca.sign('hello, server', UID));

    // Assess
    expect(binary).toBeInstanceOf(CsrRejectedError);
    expect(binary.message).toMatch(/not PEM/);
    expect(text).toBeInstanceOf(CsrRejectedError);
    expect(text.message).toBe('the CSR must be PEM beginning with "-----BEGIN CERTIFICATE REQUEST-----", found no PEM block');
  });

  it('rejects a PEM certificate request whose content is not PKCS#10', async () => {
    // Prepare
    const garbage = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('not a certification request').toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;

    // Act
    const error = await rejection((await authority(ecCa)).sign(garbage, UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toMatch(/^the CSR is not a decodable PKCS#10 request/);
  });

  it('rejects a certificate sent instead of a CSR', async () => {
    // Act
    const error = await rejection((await authority(ecCa)).sign(ecCa.certPem, UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toBe('the CSR must be PEM beginning with "-----BEGIN CERTIFICATE REQUEST-----", got "CERTIFICATE"');
  });

  it('rejects a CSR whose signature was tampered with', async () => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.rsaAgent, subject: `CN=${UID}` });

    // Act
    const error = await rejection((await authority(ecCa)).sign(tamperSignature(csr), UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toBe("the CSR's signature does not verify with the public key it carries");
  });

  it('rejects a CSR larger than the limit, before reading it', async () => {
    // Prepare
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });
    const size = new TextEncoder().encode(csr).byteLength;

    // Act
    const overLimit = await rejection((await authority(ecCa, { maxCsrBytes: size - 1 })).sign(csr, UID));
    const overDefault = await rejection((await authority(ecCa)).sign(new Uint8Array(16 * 1024 + 1).fill(0x41), UID));
    const atLimit = await (await authority(ecCa, { maxCsrBytes: size })).sign(csr, UID);

    // Assess
    expect(overLimit.message).toBe(`the CSR is ${size} bytes, more than the ${size - 1} accepted`);
    expect(overDefault.message).toBe(`the CSR is ${16 * 1024 + 1} bytes, more than the ${16 * 1024} accepted`);
    expect(atLimit.certPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('rejects a CSR for a key too weak to sign for (1024-bit RSA)', async () => {
    // Prepare
    const x509 = await loadX509();
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) };
    const weak = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const request = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${UID}`, keys: weak as CsrParams['keys'], signingAlgorithm: algorithm as CsrParams['signingAlgorithm'] });

    // Act
    const error = await rejection((await authority(ecCa)).sign(request.toString('pem'), UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toMatch(/^the CSR's public key is a 1024-bit RSA key; supported keys are/);
  });

  it('refuses to sign once the CA has expired', async () => {
    // Prepare
    const expired = await createTestCa({ keyPair: keys.ecCa, notBefore: new Date(T0 - 30 * DAY), notAfter: new Date(T0 - DAY) });
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });

    // Act
    const error = await rejection((await authority(expired)).sign(csr, UID));

    // Assess
    expect(error).toBeInstanceOf(CsrRejectedError);
    expect(error.message).toBe(`the CA certificate expired at ${new Date(T0 - DAY).toISOString()}; no certificate can be issued`);
  });
});

describe('loadCertificateAuthority', () => {
  it('describes the CA it loaded', async () => {
    // Act
    const ca = await authority(ecCa);

    // Assess
    expect(ca.info).toEqual({
      fingerprint: pemDigest(ecCa.certPem),
      subject: 'CN=OpAMP Test CA, O=Example',
      notBefore: CA_VALIDITY.notBefore.getTime(),
      notAfter: CA_VALIDITY.notAfter.getTime(),
      isCa: true,
    });
  });

  it('accepts SEC 1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY") keys as well as PKCS#8', async () => {
    // Prepare
    const rsaCa = await createTestCa({ keyPair: keys.rsaCa, ...CA_VALIDITY });
    const sec1 = createPrivateKey(ecCa.keyPem).export({ format: 'pem', type: 'sec1' }).toString();
    const pkcs1 = createPrivateKey(rsaCa.keyPem).export({ format: 'pem', type: 'pkcs1' }).toString();
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });

    // Act
    const fromSec1 = await loadCertificateAuthority({ cert: ecCa.certPem, key: sec1 }, { now: () => T0 });
    const fromPkcs1 = await loadCertificateAuthority({ cert: rsaCa.certPem, key: pkcs1 }, { now: () => T0 });

    // Assess
    expect(sec1).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(pkcs1).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    await verifyCertificateChain((await fromSec1.sign(csr, UID)).certPem, ecCa.certPem);
    await verifyCertificateChain((await fromPkcs1.sign(csr, UID)).certPem, rsaCa.certPem);
  });

  it('rejects a certificate that is not a CA', async () => {
    // Prepare
    const leaf = await createTestCa({ keyPair: keys.ecCa, subject: 'CN=collector', isCa: false });

    // Act
    const error = await rejection(authority(leaf));

    // Assess
    expect(error).toBeInstanceOf(CertificateMaterialError);
    expect(error.code).toBe('invalid-certificate');
    expect(error.message).toBe('the certificate "CN=collector" is not a CA: it has no basicConstraints extension with cA=true');
  });

  it('rejects a key that does not match the certificate', async () => {
    // Act
    const error = await rejection(loadCertificateAuthority({ cert: ecCa.certPem, key: keys.ecAgent.privateKeyPem }, { now: () => T0 }));

    // Assess
    expect(error).toBeInstanceOf(CertificateMaterialError);
    expect(error.message).toBe('the CA private key does not match the certificate "CN=OpAMP Test CA, O=Example": it belongs to another key pair');
  });

  it('rejects a CA without its key', async () => {
    // Act
    const error = await rejection(loadCertificateAuthority({ cert: ecCa.certPem }, { now: () => T0 }));

    // Assess
    expect(error).toBeInstanceOf(CertificateMaterialError);
    expect(error.message).toBe('the CA private key is missing: give the PKCS#8 PEM key of "CN=OpAMP Test CA, O=Example"');
  });

  it('rejects a certificate that is not PEM, or whose PEM is not a certificate', async () => {
    // Prepare
    const broken = `-----BEGIN CERTIFICATE-----\n${Buffer.from('garbage').toString('base64')}\n-----END CERTIFICATE-----\n`;

    // Act
    const notPem = await rejection(loadCertificateAuthority({ cert: 'MIIB...', key: ecCa.keyPem }, { now: () => T0 }));
    const notCertificate = await rejection(loadCertificateAuthority({ cert: broken, key: ecCa.keyPem }, { now: () => T0 }));
    const keyInstead = await rejection(loadCertificateAuthority({ cert: ecCa.keyPem, key: ecCa.keyPem }, { now: () => T0 }));

    // Assess
    expect(notPem.message).toBe('the CA certificate must be PEM beginning with "-----BEGIN CERTIFICATE-----", found no PEM block');
    expect(notCertificate.message).toMatch(/^the CA certificate is not a decodable X\.509 certificate: /);
    expect(keyInstead.message).toBe('the CA certificate must be PEM beginning with "-----BEGIN CERTIFICATE-----", found PRIVATE KEY');
    for (const error of [notPem, notCertificate, keyInstead]) expect(error).toBeInstanceOf(CertificateMaterialError);
  });

  it('rejects an encrypted key or a key in a form it cannot read, saying how to convert it', async () => {
    // Prepare
    const encrypted = createPrivateKey(ecCa.keyPem).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const openssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

    // Act
    const encryptedError = await rejection(loadCertificateAuthority({ cert: ecCa.certPem, key: encrypted }, { now: () => T0 }));
    const opensshError = await rejection(loadCertificateAuthority({ cert: ecCa.certPem, key: openssh }, { now: () => T0 }));

    // Assess
    expect(encryptedError.message).toMatch(/^the CA private key is encrypted; .*openssl pkcs8 -topk8 -nocrypt/);
    expect(opensshError.message).toMatch(/^the CA private key is a "OPENSSH PRIVATE KEY" block; expected "PRIVATE KEY" \(PKCS#8\).*openssl pkcs8 -topk8 -nocrypt/);
  });

  it('rejects a CA key of a type it does not sign with', async () => {
    // Prepare
    const edCa = await createTestCa({ keyPair: keys.edAgent, ...CA_VALIDITY });

    // Act
    const error = await rejection(authority(edCa));

    // Assess
    expect(error).toBeInstanceOf(CertificateMaterialError);
    expect(error.message).toBe('the CA key is a key of type ed25519; supported CA keys are ECDSA P-256, P-384 or P-521, or RSA of at least 2048 bits');
  });
});

describe('validatePemMaterial and inspectCertificate', () => {
  async function issuedMaterial() {
    const csr = await createCsrPem({ keyPair: keys.ecAgent, subject: 'CN=collector' });
    const issued = await (await authority(ecCa)).sign(csr, UID);
    return { issued, material: { cert: issued.certPem, key: keys.ecAgent.privateKeyPem, ca: ecCa.certPem } };
  }

  it('accepts a certificate with its key and CA, and describes the certificate', async () => {
    // Prepare
    const { issued, material } = await issuedMaterial();

    // Act
    const info = await validatePemMaterial(material);

    // Assess
    expect(info).toEqual({ fingerprint: issued.fingerprint, subject: 'CN=collector', notBefore: issued.notBefore, notAfter: issued.notAfter, isCa: false });
  });

  it("rejects a key that is not the certificate's", async () => {
    // Prepare
    const { material } = await issuedMaterial();

    // Act
    const error = await rejection(validatePemMaterial({ ...material, key: keys.rsaAgent.privateKeyPem }));

    // Assess
    expect(error).toBeInstanceOf(CertificateMaterialError);
    expect(error.message).toBe('the private key does not match the certificate "CN=collector": it belongs to another key pair');
  });

  it('rejects garbage in any of the three', async () => {
    // Prepare
    const { material } = await issuedMaterial();

    // Act
    const cert = await rejection(validatePemMaterial({ ...material, cert: 'garbage' }));
    const key = await rejection(validatePemMaterial({ ...material, key: 'garbage' }));
    const ca = await rejection(validatePemMaterial({ ...material, ca: 'garbage' }));

    // Assess
    expect(cert.message).toBe('the certificate must be PEM beginning with "-----BEGIN CERTIFICATE-----", found no PEM block');
    expect(key.message).toBe('the private key must be PEM beginning with "-----BEGIN PRIVATE KEY-----" (PKCS#8)');
    expect(ca.message).toBe('the CA certificate must be PEM beginning with "-----BEGIN CERTIFICATE-----", found no PEM block');
    for (const error of [cert, key, ca]) expect(error).toBeInstanceOf(CertificateMaterialError);
  });

  it('inspects the first certificate of a chain', async () => {
    // Prepare
    const { issued } = await issuedMaterial();

    // Act
    const info = await inspectCertificate(`${issued.certPem}${ecCa.certPem}`);

    // Assess
    expect(info.fingerprint).toBe(issued.fingerprint);
    expect(info.subject).toBe('CN=collector');
  });
});

describe('module loading', () => {
  it('does not load @peculiar/x509 or reflect-metadata on import, only on first use, polyfill first', async () => {
    // Prepare: a fresh module graph in which loading either package is recorded.
    const loaded: string[] = [];
    vi.resetModules();
    vi.doMock('reflect-metadata', async (importOriginal) => {
      loaded.push('reflect-metadata');
      return importOriginal();
    });
    vi.doMock('@peculiar/x509', async (importOriginal) => {
      loaded.push('@peculiar/x509');
      return importOriginal();
    });
    try {
      // Act
      const fresh = await import('../../../functions/service/certificate-authority.js');
      const afterImport = [...loaded];
      await fresh.loadCertificateAuthority(ecCa.material, { now: () => T0 });

      // Assess
      expect(afterImport).toEqual([]);
      expect(loaded).toEqual(['reflect-metadata', '@peculiar/x509']);
    } finally {
      vi.doUnmock('reflect-metadata');
      vi.doUnmock('@peculiar/x509');
      vi.resetModules();
    }
  });
});
