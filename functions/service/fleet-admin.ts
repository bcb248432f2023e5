import {
  assignmentObjectKey,
  CERTIFICATE_FILES,
  certificateFolder,
  certificateObjectKey,
  classifyObjectKey,
  configObjectKey,
  CONFIGS_PREFIX,
  packageVersionPrefix,
  settingsObjectKey,
  SIGNATURE_SUFFIX,
} from '../core/bucket-layout.js';
import type { CertificateRole } from '../core/bucket-layout.js';
import { validateAssignment } from '../core/assignment-file.js';
import { parseCertificateRef } from '../core/certificate-ref.js';
import type { ConnectionSettingsSpec } from '../core/connection-settings.js';
import { validateSettings } from '../core/settings-file.js';
import type { SettingsDocument } from '../core/settings-file.js';
import { RejectedRequestError } from '../core/errors.js';
import type { AssignmentDocument } from '../core/assignment-file.js';
import { sha256 } from '../core/canonical-hash.js';
import { configContentType, configHash } from '../core/config-hash.js';
import type { BucketCertificateMeta, ConfigAssignment } from '../core/fleet.js';
import { DEFAULT_SETTINGS_NAME } from '../core/fleet.js';
import type { RemoteConfigPolicy } from '../core/remote-config.js';
import { formatSelector } from '../core/selector.js';
import { packageFolderOfName } from '../core/packages.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { FleetStore } from '../ports/fleet-store.js';
import type { FleetSnapshot } from '../ports/fleet-store.js';
import type { ObjectStore, UploadUrlSigner } from '../ports/object-store.js';
import { validatePemMaterial } from './x509.js';
import type { PemMaterial } from './x509.js';
import { configRollout, packageRollout } from './rollout-views.js';
import type { PackageRolloutView, RolloutView } from './rollout-views.js';

import type { AssignmentView, CertificateView, ConfigView, PackageVersionView, SettingsView } from './fleet-admin-views.js';

export type { AssignmentView, CertificateView, ConfigFileView, ConfigView, PackageVersionView, SettingsView } from './fleet-admin-views.js';
export type { PackageRolloutView, RolloutAgentView, RolloutBucket, RolloutView } from './rollout-views.js';

/** Upload URLs are for one upload, now. */
const UPLOAD_URL_TTL_SECONDS = 15 * 60;

export interface UploadedFile {
  name: string;
  body: Uint8Array;
  contentType?: string | undefined;
}

/** The request names something that cannot exist (a file name the bucket layout cannot hold, ...). */
export class InvalidInputError extends RejectedRequestError {
  override readonly name = 'InvalidInputError';

  constructor(message: string) {
    super('invalid', 'invalid-request', message);
  }
}

export class NotFoundError extends RejectedRequestError {
  override readonly name = 'NotFoundError';

  constructor(message: string) {
    super('not-found', 'not-found', message);
  }
}

/**
 * The write side of the fleet API. The bucket is the source of truth: the API
 * writes and deletes objects exactly as `aws s3 cp` or `aws s3 sync` would, and
 * the bucket ingest records them, so that both ways of working meet in one
 * place. Reads come from the recorded metadata.
 */
export class FleetAdmin {
  constructor(
    private readonly deps: {
      objects: ObjectStore;
      fleet: FleetStore;
      agents: AgentStore;
      now: () => number;
      remoteConfig: RemoteConfigPolicy;
      uploads?: UploadUrlSigner;
    },
  ) {}

  async listConfigs(): Promise<ConfigView[]> {
    const snapshot = await this.deps.fleet.load();
    const names = [...new Set(snapshot.configFiles.map((f) => f.configName))].sort();
    return names.map((name) => {
      const files = snapshot.configFiles.filter((f) => f.configName === name).sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
      const meta = snapshot.state.configs.get(name);
      return {
        name,
        hash: meta ? hex(meta.hash) : null,
        files: files.map((f) => ({
          name: f.fileName,
          size: f.size,
          contentType: f.contentType,
          sha256: f.sha256,
          ...(f.error !== undefined ? { error: f.error } : {}),
        })),
        errors: files.flatMap((f) => (f.error !== undefined ? [`${f.fileName}: ${f.error}`] : [])),
      };
    });
  }

  async getConfig(name: string): Promise<ConfigView> {
    const config = (await this.listConfigs()).find((c) => c.name === name);
    if (!config) throw new NotFoundError(`no configuration named ${name}`);
    return config;
  }

  /**
   * Replaces a configuration's files in the bucket (files not named are
   * removed). Returns the config hash agents will receive once the bucket
   * ingest has recorded the upload.
   */
  async putConfig(name: string, files: readonly UploadedFile[]): Promise<{ name: string; hash: string }> {
    for (const file of files) {
      const target = classifyObjectKey(configObjectKey(name, file.name));
      if (target.kind !== 'config-file' || target.fileName !== file.name || file.name.split('/').includes('')) {
        throw new InvalidInputError(`"${file.name}" cannot be a configuration file name (no empty path segments, no trailing "/")`);
      }
    }
    const existing = await this.deps.objects.listObjects(`${CONFIGS_PREFIX}${name}/`);
    for (const file of files) await this.deps.objects.putObject(configObjectKey(name, file.name), file.body, file.contentType);
    const keep = new Set(files.map((f) => configObjectKey(name, f.name)));
    for (const object of existing) if (!keep.has(object.key)) await this.deps.objects.deleteObject(object.key);
    const hash = configHash(files.map((f) => ({
      fileName: f.name,
      contentType: configContentType(f.name, f.contentType),
      sha256: sha256(f.body).toString('hex'),
    })));
    return { name, hash: hex(hash) };
  }

  async deleteConfig(name: string): Promise<void> {
    const existing = await this.deps.objects.listObjects(`${CONFIGS_PREFIX}${name}/`);
    if (existing.length === 0) throw new NotFoundError(`no configuration named ${name}`);
    for (const object of existing) await this.deps.objects.deleteObject(object.key);
  }

  async listAssignments(): Promise<AssignmentView[]> {
    const snapshot = await this.deps.fleet.load();
    return snapshot.assignments
      .map((a) => ({
        name: a.name,
        config: a.assignment?.config ?? null,
        packages: a.assignment?.packages ? packagesForPeople(a.assignment.packages) : null,
        settings: a.assignment?.settings ?? null,
        selector: a.assignment?.selector ? formatSelector(a.assignment.selector) : null,
        instanceUid: a.assignment?.instanceUid ?? null,
        priority: a.assignment?.priority ?? null,
        inForce: a.assignment !== undefined,
        error: a.error ?? null,
        errorAt: a.errorAt !== undefined ? new Date(a.errorAt).toISOString() : null,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getAssignment(name: string): Promise<AssignmentView> {
    const assignment = (await this.listAssignments()).find((a) => a.name === name);
    if (!assignment) throw new NotFoundError(`no assignment named ${name}`);
    return assignment;
  }

  /** Validates and writes `assignments/<name>.json`; throws AssignmentFileError when invalid (nothing is written). */
  async putAssignment(name: string, document: AssignmentDocument): Promise<Omit<ConfigAssignment, 'error'>> {
    const assignment = validateAssignment(name, document);
    const file = {
      ...(assignment.config !== undefined ? { config: assignment.config } : {}),
      ...(assignment.packages !== undefined ? { packages: packagesForPeople(assignment.packages) } : {}),
      ...(assignment.settings !== undefined ? { settings: assignment.settings } : {}),
      ...(assignment.selector ? { selector: formatSelector(assignment.selector) } : {}),
      ...(assignment.instanceUid ? { instanceUid: assignment.instanceUid } : {}),
      priority: assignment.priority,
    };
    await this.deps.objects.putObject(assignmentObjectKey(name), new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`), 'application/json');
    return assignment;
  }

  async deleteAssignment(name: string): Promise<void> {
    const key = assignmentObjectKey(name);
    if ((await this.deps.objects.listObjects(key)).every((o) => o.key !== key)) {
      throw new NotFoundError(`no assignment named ${name}`);
    }
    await this.deps.objects.deleteObject(key);
  }

  async listSettings(): Promise<SettingsView[]> {
    const snapshot = await this.deps.fleet.load();
    return snapshot.settings
      .map((d) => {
        const certificates = d.settings ? bucketCertificates(d.settings) : [];
        return {
          name: d.name,
          settings: d.settings ?? null,
          inForce: d.settings !== undefined,
          error: d.error ?? null,
          errorAt: d.errorAt !== undefined ? new Date(d.errorAt).toISOString() : null,
          isDefault: d.name === DEFAULT_SETTINGS_NAME,
          assignments: snapshot.state.assignments.filter((a) => a.settings === d.name).map((a) => a.name).sort(),
          certificates,
          problems: certificates.flatMap((name) => certificateProblem(name, snapshot.state.certificates.get(name))),
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getSettings(name: string): Promise<SettingsView> {
    const view = (await this.listSettings()).find((d) => d.name === name);
    if (!view) throw new NotFoundError(`no settings document named ${name}`);
    return view;
  }

  /** Validates and writes \`settings/<name>.json\`; throws SettingsFileError when invalid (nothing is written). */
  async putSettings(name: string, document: SettingsDocument): Promise<ConnectionSettingsSpec> {
    const settings = validateSettings(document);
    await this.deps.objects.putObject(settingsObjectKey(name), new TextEncoder().encode(`${JSON.stringify(settings, null, 2)}\n`), 'application/json');
    return settings;
  }

  async deleteSettings(name: string): Promise<void> {
    const key = settingsObjectKey(name);
    if ((await this.deps.objects.listObjects(key)).every((o) => o.key !== key)) {
      throw new NotFoundError(`no settings document named ${name}`);
    }
    await this.deps.objects.deleteObject(key);
  }

  async listCertificates(): Promise<CertificateView[]> {
    const snapshot = await this.deps.fleet.load();
    const users = certificateUsers(snapshot);
    return snapshot.certificates
      .map((c) => ({
        name: c.name,
        fingerprint: c.fingerprint ?? null,
        subject: c.subject ?? null,
        notAfter: c.notAfter !== undefined ? new Date(c.notAfter).toISOString() : null,
        files: { cert: c.cert !== undefined, key: c.key !== undefined, ca: c.ca !== undefined },
        error: c.error ?? null,
        settings: users.get(c.name) ?? [],
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Checks PEM material and writes it as \`certificates/<name>/\` (cert.pem,
   * key.pem, ca.pem), removing a key.pem or ca.pem the new material does not
   * have. Throws CertificateMaterialError when it is unusable (nothing is
   * written). Returns what the ingest will record.
   */
  async putCertificate(name: string, material: PemMaterial): Promise<{ name: string; fingerprint: string; subject: string; notAfter: string }> {
    const info = await validatePemMaterial(material);
    const existing = new Set((await this.deps.objects.listObjects(certificateFolder(name))).map((o) => o.key));
    // Each write makes the ingest re-read the whole folder (later listings win), so the
    // folder is recorded as written here once the last write is ingested.
    for (const role of CERTIFICATE_ROLES) {
      const key = certificateObjectKey(name, role);
      const text = material[role];
      if (text !== undefined) await this.deps.objects.putObject(key, new TextEncoder().encode(text), 'application/x-pem-file');
      else if (existing.has(key)) await this.deps.objects.deleteObject(key);
    }
    return { name, fingerprint: info.fingerprint, subject: info.subject, notAfter: new Date(info.notAfter).toISOString() };
  }

  /** Removes the folder \`certificates/<name>/\` and everything in it. */
  async deleteCertificate(name: string): Promise<void> {
    const existing = await this.deps.objects.listObjects(certificateFolder(name));
    if (existing.length === 0) throw new NotFoundError(`no certificate named ${name}`);
    for (const object of existing) await this.deps.objects.deleteObject(object.key);
  }

  async listPackages(): Promise<PackageVersionView[]> {
    const { packageVersions } = await this.deps.fleet.load();
    return packageVersions
      .map((p) => ({
        name: packageFolderOfName(p.name),
        version: p.version,
        file: p.objectKey.slice(p.objectKey.lastIndexOf('/') + 1),
        size: p.size,
        sha256: p.sha256,
        signed: p.signature !== undefined,
        error: p.error ?? null,
      }))
      .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
  }

  /**
   * Upload URLs for a package version's file (and its signature): package
   * files can be far larger than an API request may be, so they go straight
   * to the bucket.
   */
  async packageUploadUrls(folder: string, version: string, fileName: string, withSignature: boolean): Promise<{ file: string; signature?: string }> {
    if (!this.deps.uploads) throw new Error('no upload URL signer is wired');
    const key = `${packageVersionPrefix(folder, version)}${fileName}`;
    const existing = await this.deps.objects.listObjects(packageVersionPrefix(folder, version));
    for (const object of existing) {
      if (object.key !== key && object.key !== `${key}${SIGNATURE_SUFFIX}`) await this.deps.objects.deleteObject(object.key);
    }
    return {
      file: await this.deps.uploads.signPut(key, UPLOAD_URL_TTL_SECONDS),
      ...(withSignature ? { signature: await this.deps.uploads.signPut(`${key}${SIGNATURE_SUFFIX}`, UPLOAD_URL_TTL_SECONDS) } : {}),
    };
  }

  async deletePackage(folder: string, version: string): Promise<void> {
    const existing = await this.deps.objects.listObjects(packageVersionPrefix(folder, version));
    if (existing.length === 0) throw new NotFoundError(`no package ${folder} ${version}`);
    for (const object of existing) await this.deps.objects.deleteObject(object.key);
  }

  /** Where one package version stands over every agent whose package set includes it. */
  async packageRollout(folder: string, version: string): Promise<PackageRolloutView> {
    const { state: fleet } = await this.deps.fleet.load();
    return packageRollout(fleet, this.deps.agents, folder, version);
  }

  /** Where the rollout of one configuration stands, over every agent it targets. */
  async rollout(configName: string): Promise<RolloutView> {
    const { state: fleet } = await this.deps.fleet.load();
    return configRollout(fleet, this.deps.agents, configName, this.deps.remoteConfig, this.deps.now());
  }
}

const CERTIFICATE_ROLES = Object.keys(CERTIFICATE_FILES) as CertificateRole[];

/** The bucket certificates (by folder name) a settings document refers to, sorted, each once. */
function bucketCertificates(spec: ConnectionSettingsSpec): string[] {
  const refs = [
    spec.opamp?.certificate,
    spec.ownMetrics?.certificate,
    spec.ownTraces?.certificate,
    spec.ownLogs?.certificate,
    ...Object.values(spec.otherConnections ?? {}).map((o) => o.certificate),
  ];
  const names = refs.flatMap((ref) => {
    const parsed = ref === undefined ? undefined : parseCertificateRef(ref);
    return parsed?.source === 'bucket' ? [parsed.name] : [];
  });
  return [...new Set(names)].sort();
}

/** Settings documents in force by the bucket certificate they refer to. */
function certificateUsers(snapshot: FleetSnapshot): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const [settingsName, spec] of [...snapshot.state.settings].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const name of bucketCertificates(spec)) users.set(name, [...(users.get(name) ?? []), settingsName]);
  }
  return users;
}

function certificateProblem(name: string, meta: BucketCertificateMeta | undefined): string[] {
  if (!meta) return [`certificate ${name}: no folder ${certificateFolder(name)} in the bucket`];
  return meta.error !== undefined ? [`certificate ${name}: ${meta.error}`] : [];
}

/** Package sets with the agent itself spelled as in the bucket and in assignment files. */
function packagesForPeople(packages: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(packages).map(([name, version]) => [packageFolderOfName(name), version]));
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}
