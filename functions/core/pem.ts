import { sha256 } from './canonical-hash.js';

/** The DER bytes of each PEM block with the given label, in order. */
function pemBlocks(text: string, label: string): Buffer[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(pattern)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * Hex SHA-256 of the first certificate's DER: the fingerprint that identifies
 * certificate material in connection settings hashes (what `openssl x509
 * -fingerprint -sha256` prints, without the colons). Undefined when the text
 * holds no certificate.
 */
export function certificateFingerprint(pem: string): string | undefined {
  const [der] = pemBlocks(pem, 'CERTIFICATE');
  return der && der.length > 0 ? sha256(der).toString('hex') : undefined;
}
