import type { BucketCertificateMeta, ConfigAssignment, FleetState } from '../core/fleet.js';
import type { ConnectionSettingsSpec } from '../core/connection-settings.js';
import type { PackageVersionMeta } from '../core/packages.js';

/** One file of a configuration as the ingest recorded it. */
export interface ConfigFileRecord {
  configName: string;
  fileName: string;
  objectKey: string;
  sha256: string;
  size: number;
  contentType: string;
  versionId?: string | undefined;
  /** The object's ETag when it was recorded; a listing with the same ETag needs no new read. */
  etag?: string | undefined;
  /** Why this file cannot be served (too large, ...); the whole configuration is withheld then. */
  error?: string | undefined;
  updatedAt: number;
}

/** An assignment file as the ingest recorded it: its last valid content, and its last error. */
export interface AssignmentRecord {
  name: string;
  /** Absent when the file never passed validation. */
  assignment?: Omit<ConfigAssignment, 'error'> | undefined;
  error?: string | undefined;
  errorAt?: number | undefined;
  /** ETag of the object last recorded (valid or not). */
  etag?: string | undefined;
  updatedAt: number;
}

/** A settings document as the ingest recorded it: its last valid content, and its last error. */
export interface SettingsRecord {
  name: string;
  /** Absent when the document never passed validation. */
  settings?: ConnectionSettingsSpec | undefined;
  error?: string | undefined;
  errorAt?: number | undefined;
  etag?: string | undefined;
  updatedAt: number;
}

/** A certificate folder as the ingest recorded it from a listing (later listings win). */
export interface CertificateRecord extends BucketCertificateMeta {
  scannedAt: number;
}

/**
 * Where a bucket event stands in the order of events for its key: S3's
 * sequencer (events for one key compare by it), or none for writes made from
 * a fresh listing of the bucket, which always apply.
 */
export interface IngestOrder {
  sequencer?: string | undefined;
}

/** One package version as the ingest recorded it from its folder in the bucket. */
export interface PackageVersionRecord extends PackageVersionMeta {
  /** When the folder listing this record was made from was read (later listings win). */
  scannedAt: number;
}

export interface FleetSnapshot {
  state: FleetState;
  configFiles: ConfigFileRecord[];
  assignments: AssignmentRecord[];
  packageVersions: PackageVersionRecord[];
  settings: SettingsRecord[];
  certificates: CertificateRecord[];
}

/**
 * Configuration metadata and assignments in DynamoDB. Every write is
 * conditional on the event order and returns false when a later event for the
 * same object was already recorded (the write is then skipped).
 */
export interface FleetStore {
  /** Changes with every recorded change; what function instances revalidate their cache with. */
  generation(): Promise<string>;
  load(): Promise<FleetSnapshot>;
  putConfigFile(file: ConfigFileRecord, order: IngestOrder): Promise<boolean>;
  removeConfigFile(configName: string, fileName: string, order: IngestOrder, now: number): Promise<boolean>;
  putAssignment(name: string, assignment: Omit<ConfigAssignment, 'error'>, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  /** Records why the latest version of an assignment file was rejected; its last valid content stays. */
  rejectAssignment(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  removeAssignment(name: string, order: IngestOrder, now: number): Promise<boolean>;
  /**
   * Records a package version from a listing of its folder, unless a later
   * listing was recorded already (a version folder is several objects, whose
   * events cannot be ordered by S3's per-key sequencer).
   */
  putPackageVersion(record: PackageVersionRecord): Promise<boolean>;
  removePackageVersion(name: string, version: string, scannedAt: number): Promise<boolean>;
  putSettings(name: string, settings: ConnectionSettingsSpec, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  /** Records why the latest version of a settings document was rejected; its last valid content stays. */
  rejectSettings(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  removeSettings(name: string, order: IngestOrder, now: number): Promise<boolean>;
  /** Records a certificate folder from a listing of it, unless a later listing was recorded already. */
  putCertificate(record: CertificateRecord): Promise<boolean>;
  removeCertificate(name: string, scannedAt: number): Promise<boolean>;
  bumpGeneration(): Promise<void>;
}
