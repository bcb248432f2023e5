import type { KeyObject, webcrypto } from 'node:crypto';

/** Which keys the server signs with (its CA) and signs for (agents), and how it signs with each. */

/** The key types the server signs with and signs for, by what Node reports of a key. */
export type KeyClass = { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521'; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' } | { kind: 'rsa'; bits: number } | { kind: 'ed25519' };

const CURVES: Record<string, { curve: 'P-256' | 'P-384' | 'P-521'; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
  secp521r1: { curve: 'P-521', hash: 'SHA-512' },
};
const MIN_RSA_BITS = 2048;
export const SUPPORTED_CA_KEYS = `ECDSA P-256, P-384 or P-521, or RSA of at least ${MIN_RSA_BITS} bits`;
export const SUPPORTED_AGENT_KEYS = `ECDSA P-256, P-384 or P-521, RSA of at least ${MIN_RSA_BITS} bits, or Ed25519`;

export function classifyKey(key: KeyObject): KeyClass | undefined {
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

export function describeKey(key: KeyObject): string {
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

export interface SigningProfile {
  importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  /** Handed to the certificate generator; fixes the certificate's signatureAlgorithm. */
  signingAlgorithm: { name: string; hash: string };
}

export function signingProfile(key: KeyClass): SigningProfile | undefined {
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
