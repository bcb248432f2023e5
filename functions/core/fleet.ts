import type { Selector } from './selector.js';
import { configHash } from './config-hash.js';
import { packageKey } from './packages.js';
import type { PackageSetSpec, PackageVersionMeta } from './packages.js';
import type { ConnectionSettingsSpec } from './connection-settings.js';
import { compareStrings } from './compare.js';
import type { RolloutPolicy } from './rollouts/policy.js';
import type { Rollout } from './rollouts/rollout.js';

/**
 * The fleet's desired state as the poll path sees it: every configuration's
 * metadata and every assignment. It is rebuilt from DynamoDB (which the bucket
 * ingest keeps up to date) and cached in the function, so that a poll reads no
 * more than the agent's own record.
 */
export interface FleetState {
  /** Changes whenever anything below changes; cheap to compare. */
  generation: string;
  configs: ReadonlyMap<string, ConfigMeta>;
  assignments: readonly ConfigAssignment[];
  /** Every package version in the bucket, by `packageKey(name, version)`. */
  packages: ReadonlyMap<string, PackageVersionMeta>;
  /** Connection settings documents in force, by name. */
  settings: ReadonlyMap<string, ConnectionSettingsSpec>;
  /** Certificates kept in the bucket (certificates/<name>/), by name. */
  certificates: ReadonlyMap<string, BucketCertificateMeta>;
  /** The current staged rollout of each assignment and aspect, by rolloutKey (see rollouts/staging.ts). */
  rollouts: ReadonlyMap<string, Rollout>;
}

/** One file of a certificate folder in the bucket. */
export interface CertificateFileMeta {
  objectKey: string;
  /** SHA-256 of the content, hex. */
  sha256: string;
  versionId?: string | undefined;
}

/** certificates/<name>/: cert.pem, and optionally key.pem and ca.pem. */
export interface BucketCertificateMeta {
  name: string;
  cert?: CertificateFileMeta | undefined;
  key?: CertificateFileMeta | undefined;
  ca?: CertificateFileMeta | undefined;
  /** Hex SHA-256 of the certificate (DER). */
  fingerprint?: string | undefined;
  subject?: string | undefined;
  notAfter?: number | undefined;
  /** Why the material cannot be offered (no cert.pem, a key that does not match, ...). */
  error?: string | undefined;
}

export const DEFAULT_CONFIG_NAME = 'default';
/** The settings document every agent gets when no assignment names one. */
export const DEFAULT_SETTINGS_NAME = 'default';
/** The assignment without a target: what every agent gets when nothing more specific names it. */
export const DEFAULT_ASSIGNMENT_NAME = 'default';

export interface ConfigFileMeta {
  /** Key in the AgentConfigMap (the object key below `configs/<name>/`). */
  fileName: string;
  /** The object's key in the bucket (in the state bucket when `source` is `history`). */
  objectKey: string;
  /** SHA-256 of the content, hex. */
  sha256: string;
  size: number;
  contentType: string;
  /** The object version the metadata was read from, when the bucket is versioned. */
  versionId?: string | undefined;
  /** `history`: a recorded version's copy in the state bucket (see core/config-history.ts), not the operator's object. */
  source?: 'history' | undefined;
}

export interface ConfigMeta {
  name: string;
  /** base64 of the config hash sent to agents (see configHash). */
  hash: string;
  files: readonly ConfigFileMeta[];
}

/**
 * Who gets which configuration and package set. Exactly one of `instanceUid`
 * and `selector` is set, except on the assignment named `default`, which has
 * no target and is the fallback for every agent. An assignment that failed
 * validation keeps its last valid content in force and carries the error for
 * the API to show; one that never validated is not in force.
 */
export interface ConfigAssignment {
  name: string;
  config?: string | undefined;
  /** The package set (package name to version; '' is the agent itself). */
  packages?: PackageSetSpec | undefined;
  /** The connection settings document. */
  settings?: string | undefined;
  instanceUid?: string | undefined;
  selector?: Selector | undefined;
  /** Higher wins among selectors that match the same agent. */
  priority: number;
  /** How changes reach the assignment's agents (see rollouts/policy.ts); false opts out of the fleet's default policy. */
  rollout?: RolloutPolicy | false | undefined;
  error?: string | undefined;
}

export const EMPTY_FLEET: FleetState = {
  generation: '',
  configs: new Map(),
  assignments: [],
  packages: new Map(),
  settings: new Map(),
  certificates: new Map(),
  rollouts: new Map(),
};

/** The parts of ingest records the fleet state is built from (see ports/fleet-store.ts). */
export interface ConfigFileInput extends ConfigFileMeta {
  configName: string;
  error?: string | undefined;
}

/** A settings document as the ingest recorded it: its last valid content, and its last error. */
export interface SettingsInput {
  name: string;
  settings?: ConnectionSettingsSpec | undefined;
  error?: string | undefined;
}

export interface AssignmentInput {
  name: string;
  assignment?: Omit<ConfigAssignment, 'error'> | undefined;
  error?: string | undefined;
}

/**
 * Builds the fleet state from what the ingest recorded. A configuration with a
 * file that cannot be served is left out (never offered half); an assignment
 * that never validated is left out, one whose latest upload failed keeps its
 * last valid content and carries the error; settings documents likewise.
 */
export function buildFleetState(
  generation: string,
  files: readonly ConfigFileInput[],
  assignments: readonly AssignmentInput[],
  packageVersions: readonly PackageVersionMeta[] = [],
  settingsDocuments: readonly SettingsInput[] = [],
  certificateFolders: readonly BucketCertificateMeta[] = [],
  rolloutRecords: readonly Rollout[] = [],
): FleetState {
  const byConfig = new Map<string, ConfigFileInput[]>();
  for (const file of files) {
    const list = byConfig.get(file.configName) ?? [];
    list.push(file);
    byConfig.set(file.configName, list);
  }
  const configs = new Map<string, ConfigMeta>();
  for (const [name, list] of byConfig) {
    if (list.some((f) => f.error !== undefined)) continue;
    const metas: ConfigFileMeta[] = list
      .map(({ fileName, objectKey, sha256, size, contentType, versionId }) => ({ fileName, objectKey, sha256, size, contentType, versionId }))
      .sort((a, b) => compareStrings(a.fileName, b.fileName));
    configs.set(name, { name, hash: configHash(metas), files: metas });
  }
  const inForce: ConfigAssignment[] = assignments.filter((a) => a.assignment !== undefined).map((a) => ({ ...a.assignment!, ...(a.error !== undefined ? { error: a.error } : {}) }));
  const packages = new Map(packageVersions.map((p) => [packageKey(p.name, p.version), p] as const));
  const settings = new Map(settingsDocuments.flatMap((d) => (d.settings ? [[d.name, d.settings] as const] : [])));
  const certificates = new Map(certificateFolders.map((c) => [c.name, c] as const));
  const rollouts = new Map(rolloutRecords.map((r) => [`${r.assignment}/${r.aspect}`, r] as const));
  return { generation, configs, assignments: inForce, packages, settings, certificates, rollouts };
}
