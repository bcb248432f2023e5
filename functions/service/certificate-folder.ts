import { CERTIFICATE_FILES } from '../core/bucket-layout.js';
import type { CertificateRole } from '../core/bucket-layout.js';
import type { CertificateFileMeta } from '../core/fleet.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { CertificateRecord } from '../ports/fleet-store.js';
import { CertificateMaterialError, validatePemMaterial } from './x509.js';

/** A certificate folder's record: its files, and the material checked together (or why it is unusable). */
export async function checkedCertificate(
  name: string,
  folder: string,
  files: Partial<Record<CertificateRole, CertificateFileMeta>>,
  pem: Partial<Record<CertificateRole, string>>,
  now: number,
  telemetry: Telemetry,
): Promise<CertificateRecord> {
  const record: CertificateRecord = { name, ...files, scannedAt: now };
  if (pem.cert === undefined) {
    record.error = `no ${CERTIFICATE_FILES.cert} in ${folder}`;
  } else {
    try {
      const info = await validatePemMaterial({ cert: pem.cert, key: pem.key, ca: pem.ca });
      record.fingerprint = info.fingerprint;
      record.subject = info.subject;
      record.notAfter = info.notAfter;
    } catch (error) {
      if (!(error instanceof CertificateMaterialError)) throw error;
      record.error = error.message;
    }
  }
  if (record.error !== undefined) {
    telemetry.logger.warn('certificate folder rejected', { folder, error: record.error });
    telemetry.count('Rejected.certificate-folder');
  }
  return record;
}

/** Whether a folder's files are the ones recorded: same keys, contents and versions. */
export function sameFiles(recorded: CertificateRecord, files: Partial<Record<CertificateRole, CertificateFileMeta>>): boolean {
  return (Object.keys(CERTIFICATE_FILES) as CertificateRole[]).every((role) => {
    const a = recorded[role];
    const b = files[role];
    return a === undefined || b === undefined ? a === b : a.objectKey === b.objectKey && a.sha256 === b.sha256 && (a.versionId ?? '') === (b.versionId ?? '');
  });
}
