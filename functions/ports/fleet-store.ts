import type { BucketCertificateMeta, ConfigAssignment, FleetState } from '../core/fleet.js';
import type { ConnectionSettingsSpec } from '../core/connection-settings.js';
import type { PackageVersionMeta } from '../core/packages.js';
import type { Rollout } from '../core/rollouts/rollout.js';

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
/** A document validated at ingest (an assignment, a settings document): its last valid content, and its last error. */
export interface ValidatedDocument<T> {
  name: string;
  content?: T;
  error?: string;
  errorAt?: number;
  etag?: string;
  updatedAt: number;
}

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

/** A certificate folder as the ingest recorded it from a listing. */
export interface CertificateRecord extends BucketCertificateMeta {
  /** When the listing was read (shown to people; writes are ordered by revision, not by clocks). */
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
  /** When the folder listing this record was made from was read (shown to people; writes are ordered by revision). */
  scannedAt: number;
}

export interface FleetSnapshot {
  state: FleetState;
  configFiles: ConfigFileRecord[];
  assignments: AssignmentRecord[];
  packageVersions: PackageVersionRecord[];
  settings: SettingsRecord[];
  certificates: CertificateRecord[];
  rollouts: Rollout[];
}

/**
 * Configuration metadata and assignments in DynamoDB. Every write is
 * conditional (on the event order for single objects, on the revision for
 * folders) and returns false when it was skipped for that reason.
 */
export interface FleetStore {
  /** Changes with every recorded change; what function instances revalidate their cache with. */
  generation(): Promise<string>;
  load(): Promise<FleetSnapshot>;
  /** One configuration's recorded files (removed ones left out), read strongly consistent. */
  configFiles(configName: string): Promise<ConfigFileRecord[]>;
  putConfigFile(file: ConfigFileRecord, order: IngestOrder): Promise<boolean>;
  removeConfigFile(configName: string, fileName: string, order: IngestOrder, now: number): Promise<boolean>;
  putAssignment(name: string, assignment: Omit<ConfigAssignment, 'error'>, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  /** Records why the latest version of an assignment file was rejected; its last valid content stays. */
  rejectAssignment(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  removeAssignment(name: string, order: IngestOrder, now: number): Promise<boolean>;
  /**
   * Folder records (package versions, certificates) are made from a listing of
   * several objects, whose events S3's per-key sequencer cannot order. Each
   * has a revision instead: read it before listing the folder, and write with
   * it; the write is skipped (false) when another writer recorded in between,
   * and the caller lists again. 0 when nothing was ever recorded.
   */
  packageRevision(name: string, version: string): Promise<number>;
  putPackageVersion(record: PackageVersionRecord, revision: number): Promise<boolean>;
  removePackageVersion(name: string, version: string, scannedAt: number, revision: number): Promise<boolean>;
  putSettings(name: string, settings: ConnectionSettingsSpec, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  /** Records why the latest version of a settings document was rejected; its last valid content stays. */
  rejectSettings(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean>;
  removeSettings(name: string, order: IngestOrder, now: number): Promise<boolean>;
  /** A certificate folder's revision (see packageRevision). */
  certificateRevision(name: string): Promise<number>;
  putCertificate(record: CertificateRecord, revision: number): Promise<boolean>;
  removeCertificate(name: string, scannedAt: number, revision: number): Promise<boolean>;
  /**
   * Stores a rollout whose stored revision is still `rollout.revision - 1`
   * (nothing stored for revision 1); false when another writer changed it
   * first, and the caller reads it again. The caller bumps the generation
   * when the change moves agents.
   */
  putRollout(rollout: Rollout): Promise<boolean>;
  /** Deletes a rollout whose stored revision is still `revision`; false when another writer changed it first. */
  removeRollout(assignment: string, aspect: string, revision: number): Promise<boolean>;
  bumpGeneration(): Promise<void>;
}
