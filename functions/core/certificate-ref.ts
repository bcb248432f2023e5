import { isValidName } from './names.js';

/**
 * Where a certificate's PEM material is kept:
 *
 *   <name> or bucket:<name>   certificates/<name>/cert.pem, key.pem, ca.pem in the bucket
 *   secretsmanager:<secret>   a Secrets Manager secret (name or ARN) holding
 *                             {"cert": "...", "key": "...", "ca": "..."}
 *   file:<directory>          cert.pem, key.pem, ca.pem in a local directory
 *                             (the local backend only)
 *
 * key.pem and ca.pem are optional everywhere.
 */
export type CertificateRef = { source: 'bucket'; name: string } | { source: 'secretsmanager'; secretId: string } | { source: 'file'; directory: string };

const SECRETS_PREFIX = 'secretsmanager:';
const FILE_PREFIX = 'file:';
/** Optional before a bucket name (environment settings spell it out). */
const BUCKET_PREFIX = 'bucket:';

export function parseCertificateRef(ref: string): CertificateRef | undefined {
  if (ref.startsWith(SECRETS_PREFIX)) {
    const secretId = ref.slice(SECRETS_PREFIX.length);
    return /^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(secretId) ? { source: 'secretsmanager', secretId } : undefined;
  }
  if (ref.startsWith(FILE_PREFIX)) {
    const directory = ref.slice(FILE_PREFIX.length);
    return directory.length > 0 ? { source: 'file', directory } : undefined;
  }
  const name = ref.startsWith(BUCKET_PREFIX) ? ref.slice(BUCKET_PREFIX.length) : ref;
  return isValidName(name) ? { source: 'bucket', name } : undefined;
}

export function isCertificateRef(ref: string): boolean {
  return parseCertificateRef(ref) !== undefined;
}
