import type { ConfigAssignment } from '../../core/fleet.js';
import { comparableSequencer } from '../../core/bucket-layout.js';
import { buildFleetState } from '../../core/fleet.js';
import type { AssignmentRecord, ConfigFileRecord, FleetSnapshot, FleetStore, IngestOrder, PackageVersionRecord } from '../../ports/fleet-store.js';
import { packageKey } from '../../core/packages.js';

/** FleetStore in memory, with the same ordering rule as the DynamoDB adapter. For unit tests. */
export class MemoryFleetStore implements FleetStore {
  private counter = 0;
  private readonly files = new Map<string, { record?: ConfigFileRecord; sequencer: string }>();
  private readonly assignments = new Map<string, { record?: AssignmentRecord; sequencer: string }>();
  private readonly packageVersions = new Map<string, { record?: PackageVersionRecord; scannedAt: number }>();

  async generation(): Promise<string> {
    return String(this.counter);
  }

  async load(): Promise<FleetSnapshot> {
    const configFiles = [...this.files.values()].flatMap((e) => (e.record ? [structuredClone(e.record)] : []));
    const assignments = [...this.assignments.values()].flatMap((e) => (e.record ? [structuredClone(e.record)] : []));
    const packageVersions = [...this.packageVersions.values()].flatMap((e) => (e.record ? [structuredClone(e.record)] : []));
    return { state: buildFleetState(String(this.counter), configFiles, assignments, packageVersions), configFiles, assignments, packageVersions };
  }

  async putConfigFile(file: ConfigFileRecord, order: IngestOrder): Promise<boolean> {
    return ordered(this.files, `${file.configName}#${file.fileName}`, order, () => structuredClone(file));
  }

  async removeConfigFile(configName: string, fileName: string, order: IngestOrder): Promise<boolean> {
    return ordered(this.files, `${configName}#${fileName}`, order, () => undefined);
  }

  async putAssignment(name: string, assignment: Omit<ConfigAssignment, 'error'>, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return ordered(this.assignments, name, order, () => ({ name, assignment: structuredClone(assignment), updatedAt: now, ...(etag ? { etag } : {}) }));
  }

  async rejectAssignment(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    const previous = this.assignments.get(name)?.record;
    return ordered(this.assignments, name, order, () => ({
      name,
      ...(previous?.assignment ? { assignment: previous.assignment } : {}),
      error,
      errorAt: now,
      updatedAt: now,
      ...(etag ? { etag } : {}),
    }));
  }

  async removeAssignment(name: string, order: IngestOrder): Promise<boolean> {
    return ordered(this.assignments, name, order, () => undefined);
  }

  async putPackageVersion(record: PackageVersionRecord): Promise<boolean> {
    return this.scanned(packageKey(record.name, record.version), record.scannedAt, structuredClone(record));
  }

  async removePackageVersion(name: string, version: string, scannedAt: number): Promise<boolean> {
    return this.scanned(packageKey(name, version), scannedAt, undefined);
  }

  private scanned(key: string, scannedAt: number, record: PackageVersionRecord | undefined): boolean {
    const current = this.packageVersions.get(key);
    if (current && current.scannedAt > scannedAt) return false;
    this.packageVersions.set(key, { ...(record ? { record } : {}), scannedAt });
    return true;
  }

  async bumpGeneration(): Promise<void> {
    this.counter++;
  }
}

function ordered<T>(map: Map<string, { record?: T; sequencer: string }>, key: string, order: IngestOrder, next: () => T | undefined): boolean {
  const current = map.get(key);
  const sequencer = order.sequencer === undefined ? undefined : comparableSequencer(order.sequencer);
  if (sequencer !== undefined && current && current.sequencer > sequencer) return false;
  const record = next();
  map.set(key, { ...(record ? { record } : {}), sequencer: sequencer ?? current?.sequencer ?? '' });
  return true;
}
