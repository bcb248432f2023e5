import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { RejectedRequestError } from '../core/errors.js';
import { classifyKey, describeKey, SUPPORTED_AGENT_KEYS } from './certificate-keys.js';
import type { KeyClass } from './certificate-keys.js';
import { SUBJECT_ALT_NAME_OID } from './x509.js';
import type { X509Library } from './x509.js';

/** Reading and checking the certificate signing requests agents send. */

/** A CSR the server will not sign; the message says why in one line. */
export class CsrRejectedError extends RejectedRequestError {
  override readonly name = 'CsrRejectedError';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid', 'csr-rejected', message, options);
  }
}

/** `openssl req` writes "CERTIFICATE REQUEST"; some older tools "NEW CERTIFICATE REQUEST". */
const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** An underlying error's message, kept to one line. */
export function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

export function parseCsr(x509: X509Library, bytes: Uint8Array): X509.Pkcs10CertificateRequest {
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

export function requestKey(request: X509.Pkcs10CertificateRequest): KeyClass {
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
export function checkInstanceUid(x509: X509Library, request: X509.Pkcs10CertificateRequest, agentUid: string, required: boolean): void {
  const found = new Set(uidBearingTexts(x509, request).flatMap(uuidsInText));
  const foreign = [...found].find((uid) => uid !== agentUid);
  if (foreign !== undefined) {
    throw new CsrRejectedError(`the CSR names instance uid ${foreign}, but the agent's instance uid is ${agentUid}`);
  }
  if (found.size === 0 && required) {
    throw new CsrRejectedError(`the CSR carries no instance uid; put ${agentUid} in its subject (e.g. CN) or as a urn:uuid: URI subjectAltName`);
  }
}
