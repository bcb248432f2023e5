import { CERTIFICATE_FILES, certificateFolder, certificateObjectKey } from '../../core/bucket-layout.js';
import type { CertificateRole } from '../../core/bucket-layout.js';
import { parseCertificateRef } from '../../core/certificate-ref.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import type { BucketCertificateMeta } from '../../core/fleet.js';
import type { FleetSnapshot } from '../../ports/fleet-store.js';
import { validatePemMaterial } from '../x509.js';
import type { PemMaterial } from '../x509.js';
import type { AdminDeps } from './deps.js';
import { byName, deleteAllUnder, isoOrNull } from './deps.js';
import { byKey } from '../../core/compare.js';

export interface CertificateView {
  name: string;
  /** Hex SHA-256 of the certificate (DER); null while the folder holds no usable certificate. */
  fingerprint: string | null;
  subject: string | null;
  notAfter: string | null;
  /** The files the folder holds. */
  files: { cert: boolean; key: boolean; ca: boolean };
  /** Why the material cannot be offered (no cert.pem, a key that does not match, ...). */
  error: string | null;
  /** The settings documents in force that refer to it. */
  settings: string[];
}

/** What PUT /certificates/{name} answers: what the ingest will record. */
export interface CertificateAccepted {
  name: string;
  fingerprint: string;
  subject: string;
  notAfter: string;
}

const CERTIFICATE_ROLES = Object.keys(CERTIFICATE_FILES) as CertificateRole[];

export async function listCertificates(deps: AdminDeps): Promise<CertificateView[]> {
  const snapshot = await deps.fleet.load();
  const users = certificateUsers(snapshot);
  return snapshot.certificates
    .map((c) => ({
      name: c.name,
      fingerprint: c.fingerprint ?? null,
      subject: c.subject ?? null,
      notAfter: isoOrNull(c.notAfter),
      files: { cert: c.cert !== undefined, key: c.key !== undefined, ca: c.ca !== undefined },
      error: c.error ?? null,
      settings: users.get(c.name) ?? [],
    }))
    .sort(byName);
}

/**
 * Checks PEM material and writes it as `certificates/<name>/` (cert.pem,
 * key.pem, ca.pem), removing a key.pem or ca.pem the new material does not
 * have. Throws CertificateMaterialError when it is unusable (nothing is
 * written).
 */
export async function putCertificate(deps: AdminDeps, name: string, material: PemMaterial): Promise<CertificateAccepted> {
  const info = await validatePemMaterial(material);
  const existing = new Set((await deps.objects.listObjects(certificateFolder(name))).map((o) => o.key));
  // Each write makes the ingest re-read the whole folder, and the last record is made from
  // a listing after the last write, so the folder is recorded as written here.
  for (const role of CERTIFICATE_ROLES) {
    const key = certificateObjectKey(name, role);
    const text = material[role];
    if (text !== undefined) await deps.objects.putObject(key, new TextEncoder().encode(text), 'application/x-pem-file');
    else if (existing.has(key)) await deps.objects.deleteObject(key);
  }
  return { name, fingerprint: info.fingerprint, subject: info.subject, notAfter: new Date(info.notAfter).toISOString() };
}

/** Removes the folder `certificates/<name>/` and everything in it. */
export async function deleteCertificate(deps: AdminDeps, name: string): Promise<void> {
  await deleteAllUnder(deps, certificateFolder(name), `no certificate named ${name}`);
}

/** The bucket certificates (by folder name) a settings document refers to, sorted, each once. */
export function bucketCertificates(spec: ConnectionSettingsSpec): string[] {
  const refs = [spec.opamp?.certificate, spec.ownMetrics?.certificate, spec.ownTraces?.certificate, spec.ownLogs?.certificate, ...Object.values(spec.otherConnections ?? {}).map((o) => o.certificate)];
  const names = refs.flatMap((ref) => {
    const parsed = ref === undefined ? undefined : parseCertificateRef(ref);
    return parsed?.source === 'bucket' ? [parsed.name] : [];
  });
  return [...new Set(names)].sort();
}

/** Why a bucket certificate a settings document refers to cannot be offered, if it cannot. */
export function certificateProblem(name: string, meta: BucketCertificateMeta | undefined): string[] {
  if (!meta) return [`certificate ${name}: no folder ${certificateFolder(name)} in the bucket`];
  return meta.error !== undefined ? [`certificate ${name}: ${meta.error}`] : [];
}

/** Settings documents in force by the bucket certificate they refer to. */
function certificateUsers(snapshot: FleetSnapshot): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const [settingsName, spec] of [...snapshot.state.settings].sort(byKey)) {
    for (const name of bucketCertificates(spec)) users.set(name, [...(users.get(name) ?? []), settingsName]);
  }
  return users;
}
