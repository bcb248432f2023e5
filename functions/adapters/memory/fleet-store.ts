import type { Rollout } from '../../core/rollouts/rollout.js';
import type { ConfigAssignment } from '../../core/fleet.js';
import { comparableSequencer } from '../../core/bucket-layout.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import { buildFleetState } from '../../core/fleet.js';
import type { AssignmentRecord, CertificateRecord, ConfigFileRecord, FleetSnapshot, FleetStore, IngestOrder, PackageVersionRecord, SettingsRecord } from '../../ports/fleet-store.js';
import { packageKey } from '../../core/packages.js';
import type { ValidatedDocument } from '../../ports/fleet-store.js';

type Ordered<T> = Map<string, { record?: T; sequencer: string }>;
type Revised<T> = Map<string, { record?: T; revision: number }>;

/** FleetStore in memory, with the same ordering rules as the DynamoDB adapter. For unit tests. */
export class MemoryFleetStore implements FleetStore {
  private counter = 0;
  private readonly files: Ordered<ConfigFileRecord> = new Map();
  private readonly assignments: Ordered<ValidatedDocument<Omit<ConfigAssignment, 'error'>>> = new Map();
  private readonly settings: Ordered<ValidatedDocument<ConnectionSettingsSpec>> = new Map();
  private readonly packageVersions: Revised<PackageVersionRecord> = new Map();
  private readonly certificates: Revised<CertificateRecord> = new Map();
  private readonly rollouts: Revised<Rollout> = new Map();

  async generation(): Promise<string> {
    return String(this.counter);
  }

  async load(): Promise<FleetSnapshot> {
    const configFiles = records(this.files);
    const assignments: AssignmentRecord[] = records(this.assignments).map(({ content, ...rest }) => ({ ...rest, ...(content ? { assignment: content } : {}) }));
    const settings: SettingsRecord[] = records(this.settings).map(({ content, ...rest }) => ({ ...rest, ...(content ? { settings: content } : {}) }));
    const packageVersions = records(this.packageVersions);
    const certificates = records(this.certificates);
    const rollouts = records(this.rollouts);
    return {
      state: buildFleetState(String(this.counter), configFiles, assignments, packageVersions, settings, certificates, rollouts),
      rollouts,
      configFiles,
      assignments,
      packageVersions,
      settings,
      certificates,
    };
  }

  async configFiles(configName: string): Promise<ConfigFileRecord[]> {
    return records(this.files).filter((f) => f.configName === configName);
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

  async packageRevision(name: string, version: string): Promise<number> {
    return this.packageVersions.get(packageKey(name, version))?.revision ?? 0;
  }

  async putPackageVersion(record: PackageVersionRecord, revision: number): Promise<boolean> {
    return revised(this.packageVersions, packageKey(record.name, record.version), revision, structuredClone(record));
  }

  async removePackageVersion(name: string, version: string, _scannedAt: number, revision: number): Promise<boolean> {
    return revised(this.packageVersions, packageKey(name, version), revision, undefined);
  }

  async certificateRevision(name: string): Promise<number> {
    return this.certificates.get(name)?.revision ?? 0;
  }

  async putCertificate(record: CertificateRecord, revision: number): Promise<boolean> {
    return revised(this.certificates, record.name, revision, structuredClone(record));
  }

  async removeCertificate(name: string, _scannedAt: number, revision: number): Promise<boolean> {
    return revised(this.certificates, name, revision, undefined);
  }

  async putRollout(rollout: Rollout): Promise<boolean> {
    return revised(this.rollouts, `${rollout.assignment}/${rollout.aspect}`, rollout.revision - 1, structuredClone(rollout));
  }

  async removeRollout(assignment: string, aspect: string, revision: number): Promise<boolean> {
    const key = `${assignment}/${aspect}`;
    if ((this.rollouts.get(key)?.revision ?? 0) !== revision) return false;
    this.rollouts.delete(key);
    return true;
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

/** Records what a listing found as the next revision, unless another write came after `revision` was read. */
function revised<T>(map: Revised<T>, key: string, revision: number, record: T | undefined): boolean {
  if ((map.get(key)?.revision ?? 0) !== revision) return false;
  map.set(key, { ...(record ? { record } : {}), revision: revision + 1 });
  return true;
}
