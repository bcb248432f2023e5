import type { ConfigAssignment } from '../../core/fleet.js';
import { comparableSequencer } from '../../core/bucket-layout.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import { buildFleetState } from '../../core/fleet.js';
import type {
  AssignmentRecord,
  CertificateRecord,
  ConfigFileRecord,
  FleetSnapshot,
  FleetStore,
  IngestOrder,
  PackageVersionRecord,
  SettingsRecord,
} from '../../ports/fleet-store.js';
import { packageKey } from '../../core/packages.js';

/** A document validated at ingest (an assignment, a settings document): its last valid content, and its last error. */
interface ValidatedDocument<T> {
  name: string;
  content?: T;
  error?: string;
  errorAt?: number;
  etag?: string;
  updatedAt: number;
}

type Ordered<T> = Map<string, { record?: T; sequencer: string }>;
type Scanned<T> = Map<string, { record?: T; scannedAt: number }>;

/** FleetStore in memory, with the same ordering rule as the DynamoDB adapter. For unit tests. */
export class MemoryFleetStore implements FleetStore {
  private counter = 0;
  private readonly files: Ordered<ConfigFileRecord> = new Map();
  private readonly assignments: Ordered<ValidatedDocument<Omit<ConfigAssignment, 'error'>>> = new Map();
  private readonly settings: Ordered<ValidatedDocument<ConnectionSettingsSpec>> = new Map();
  private readonly packageVersions: Scanned<PackageVersionRecord> = new Map();
  private readonly certificates: Scanned<CertificateRecord> = new Map();

  async generation(): Promise<string> {
    return String(this.counter);
  }

  async load(): Promise<FleetSnapshot> {
    const configFiles = records(this.files);
    const assignments: AssignmentRecord[] = records(this.assignments).map(({ content, ...rest }) => ({ ...rest, ...(content ? { assignment: content } : {}) }));
    const settings: SettingsRecord[] = records(this.settings).map(({ content, ...rest }) => ({ ...rest, ...(content ? { settings: content } : {}) }));
    const packageVersions = records(this.packageVersions);
    const certificates = records(this.certificates);
    return {
      state: buildFleetState(String(this.counter), configFiles, assignments, packageVersions, settings, certificates),
      configFiles,
      assignments,
      packageVersions,
      settings,
      certificates,
    };
  }

  async putConfigFile(file: ConfigFileRecord, order: IngestOrder): Promise<boolean> {
    return ordered(this.files, `${file.configName}#${file.fileName}`, order, () => structuredClone(file));
  }

  async removeConfigFile(configName: string, fileName: string, order: IngestOrder): Promise<boolean> {
    return ordered(this.files, `${configName}#${fileName}`, order, () => undefined);
  }

  async putAssignment(name: string, assignment: Omit<ConfigAssignment, 'error'>, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return putValidated(this.assignments, name, assignment, order, now, etag);
  }

  async rejectAssignment(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return rejectValidated(this.assignments, name, error, order, now, etag);
  }

  async removeAssignment(name: string, order: IngestOrder): Promise<boolean> {
    return ordered(this.assignments, name, order, () => undefined);
  }

  async putSettings(name: string, settings: ConnectionSettingsSpec, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return putValidated(this.settings, name, settings, order, now, etag);
  }

  async rejectSettings(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return rejectValidated(this.settings, name, error, order, now, etag);
  }

  async removeSettings(name: string, order: IngestOrder): Promise<boolean> {
    return ordered(this.settings, name, order, () => undefined);
  }

  async putPackageVersion(record: PackageVersionRecord): Promise<boolean> {
    return scanned(this.packageVersions, packageKey(record.name, record.version), record.scannedAt, structuredClone(record));
  }

  async removePackageVersion(name: string, version: string, scannedAt: number): Promise<boolean> {
    return scanned(this.packageVersions, packageKey(name, version), scannedAt, undefined);
  }

  async putCertificate(record: CertificateRecord): Promise<boolean> {
    return scanned(this.certificates, record.name, record.scannedAt, structuredClone(record));
  }

  async removeCertificate(name: string, scannedAt: number): Promise<boolean> {
    return scanned(this.certificates, name, scannedAt, undefined);
  }

  async bumpGeneration(): Promise<void> {
    this.counter++;
  }
}

function records<T>(map: Map<string, { record?: T }>): T[] {
  return [...map.values()].flatMap((e) => (e.record ? [structuredClone(e.record)] : []));
}

function putValidated<T>(map: Ordered<ValidatedDocument<T>>, name: string, content: T, order: IngestOrder, now: number, etag: string | undefined): boolean {
  return ordered(map, name, order, () => ({ name, content: structuredClone(content), updatedAt: now, ...(etag ? { etag } : {}) }));
}

/** Like the DynamoDB adapter's update: the last valid content stays beside the error. */
function rejectValidated<T>(map: Ordered<ValidatedDocument<T>>, name: string, error: string, order: IngestOrder, now: number, etag: string | undefined): boolean {
  const previous = map.get(name)?.record;
  return ordered(map, name, order, () => ({
    name,
    ...(previous?.content !== undefined ? { content: previous.content } : {}),
    error,
    errorAt: now,
    updatedAt: now,
    ...(etag ? { etag } : {}),
  }));
}

function ordered<T>(map: Ordered<T>, key: string, order: IngestOrder, next: () => T | undefined): boolean {
  const current = map.get(key);
  const sequencer = order.sequencer === undefined ? undefined : comparableSequencer(order.sequencer);
  if (sequencer !== undefined && current && current.sequencer > sequencer) return false;
  const record = next();
  map.set(key, { ...(record ? { record } : {}), sequencer: sequencer ?? current?.sequencer ?? '' });
  return true;
}

/** Records what a listing found, unless a later listing was recorded already. */
function scanned<T>(map: Scanned<T>, key: string, scannedAt: number, record: T | undefined): boolean {
  const current = map.get(key);
  if (current && current.scannedAt > scannedAt) return false;
  map.set(key, { ...(record ? { record } : {}), scannedAt });
  return true;
}
