import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CertificateFileMeta, ConfigAssignment } from '../../core/fleet.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import { parseSelector } from '../../core/selector.js';
import type { RolloutPolicy } from '../../core/rollouts/policy.js';
import type { AssignmentRecord, CertificateRecord, ConfigFileRecord, PackageVersionRecord, SettingsRecord } from '../../ports/fleet-store.js';
import type { ValidatedDocument } from '../../ports/fleet-store.js';

/** Fleet metadata items as DynamoFleetStore stores them, read back into records. */

type Item = Record<string, AttributeValue>;

export function itemToConfigFile(item: Item): ConfigFileRecord {
  return {
    configName: item.configName?.S ?? '',
    fileName: item.fileName?.S ?? '',
    objectKey: item.objectKey?.S ?? '',
    sha256: item.sha256?.S ?? '',
    size: Number(item.size?.N ?? 0),
    contentType: item.contentType?.S ?? '',
    ...(item.versionId?.S ? { versionId: item.versionId.S } : {}),
    ...(item.etag?.S ? { etag: item.etag.S } : {}),
    ...(item.error?.S !== undefined ? { error: item.error.S } : {}),
    updatedAt: Number(item.updatedAt?.N ?? 0),
  };
}

export function itemToPackageVersion(item: Item): PackageVersionRecord {
  return {
    name: item.name?.S ?? '',
    version: item.version?.S ?? '',
    objectKey: item.objectKey?.S ?? '',
    sha256: item.sha256?.S ?? '',
    size: Number(item.size?.N ?? 0),
    ...(item.signature?.S !== undefined ? { signature: item.signature.S } : {}),
    ...(item.error?.S !== undefined ? { error: item.error.S } : {}),
    scannedAt: Number(item.scannedAt?.N ?? 0),
  };
}

function itemToValidated<T>(item: Item, content: (item: Item, name: string) => T): ValidatedDocument<T> {
  const name = item.name?.S ?? '';
  return {
    name,
    ...(item.valid?.BOOL ? { content: content(item, name) } : {}),
    ...(item.error?.S !== undefined ? { error: item.error.S } : {}),
    ...(item.errorAt?.N ? { errorAt: Number(item.errorAt.N) } : {}),
    ...(item.etag?.S ? { etag: item.etag.S } : {}),
    updatedAt: Number(item.updatedAt?.N ?? 0),
  };
}

export function itemToAssignment(item: Item): AssignmentRecord {
  const { content, ...rest } = itemToValidated(
    item,
    (i, name): Omit<ConfigAssignment, 'error'> => ({
      name,
      ...(i.config?.S !== undefined ? { config: i.config.S } : {}),
      ...(i.packages?.M ? { packages: Object.fromEntries(Object.entries(i.packages.M).map(([k, v]) => [k, v.S ?? ''])) } : {}),
      ...(i.settings?.S !== undefined ? { settings: i.settings.S } : {}),
      priority: Number(i.priority?.N ?? 0),
      ...(i.instanceUid?.S ? { instanceUid: i.instanceUid.S } : {}),
      ...(i.selector?.S ? { selector: parseSelector(i.selector.S) } : {}),
      ...(i.rollout?.S ? { rollout: JSON.parse(i.rollout.S) as RolloutPolicy | false } : {}),
    }),
  );
  return { ...rest, ...(content ? { assignment: content } : {}) };
}

export function itemToSettings(item: Item): SettingsRecord {
  // Validated when it was ingested: parsed as stored, without validating again on every load.
  const { content, ...rest } = itemToValidated(item, (i) => JSON.parse(i.spec?.S ?? '{}') as ConnectionSettingsSpec);
  return { ...rest, ...(content ? { settings: content } : {}) };
}

export const CERTIFICATE_ROLES = ['cert', 'key', 'ca'] as const;

export function certificateFileItem(file: CertificateFileMeta): Item {
  return {
    objectKey: { S: file.objectKey },
    sha256: { S: file.sha256 },
    ...(file.versionId ? { versionId: { S: file.versionId } } : {}),
  };
}

function itemToCertificateFile(item: Item | undefined): CertificateFileMeta | undefined {
  if (!item) return undefined;
  return {
    objectKey: item.objectKey?.S ?? '',
    sha256: item.sha256?.S ?? '',
    ...(item.versionId?.S ? { versionId: item.versionId.S } : {}),
  };
}

export function itemToCertificate(item: Item): CertificateRecord {
  const record: CertificateRecord = { name: item.name?.S ?? '', scannedAt: Number(item.scannedAt?.N ?? 0) };
  for (const role of CERTIFICATE_ROLES) {
    const file = itemToCertificateFile(item[role]?.M);
    if (file) record[role] = file;
  }
  if (item.fingerprint?.S !== undefined) record.fingerprint = item.fingerprint.S;
  if (item.subject?.S !== undefined) record.subject = item.subject.S;
  if (item.notAfter?.N !== undefined) record.notAfter = Number(item.notAfter.N);
  if (item.error?.S !== undefined) record.error = item.error.S;
  return record;
}
