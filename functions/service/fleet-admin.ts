import type { AssignmentDocument } from '../core/assignment-file.js';
import type { ConnectionSettingsSpec } from '../core/connection-settings.js';
import type { ConfigAssignment } from '../core/fleet.js';
import type { SettingsDocument } from '../core/settings-file.js';
import * as assignments from './admin/assignments.js';
import type { AssignmentView } from './admin/assignments.js';
import * as certificates from './admin/certificates.js';
import type { CertificateAccepted, CertificateView } from './admin/certificates.js';
import * as configs from './admin/configs.js';
import * as versions from './admin/config-versions.js';
import type { VersionDetailView, VersionListView } from './admin/config-versions.js';
import type { ConfigView, RolloutView, UploadedFile } from './admin/configs.js';
import type { AdminDeps } from './admin/deps.js';
import * as packages from './admin/packages.js';
import type { PackageRolloutView, PackageUploadUrls, PackageVersionView } from './admin/packages.js';
import * as settings from './admin/settings.js';
import type { SettingsView } from './admin/settings.js';
import type { PemMaterial } from './x509.js';

export type { AssignmentView } from './admin/assignments.js';
export type { CertificateAccepted, CertificateView } from './admin/certificates.js';
export type { ConfigFileView, ConfigView, RolloutAgentView, RolloutBucket, RolloutView, UploadedFile } from './admin/configs.js';
export type { AdminDeps } from './admin/deps.js';
export type { VersionDetailView, VersionFileView, VersionListView, VersionSummaryView } from './admin/config-versions.js';
export { InvalidInputError, NotFoundError } from './admin/deps.js';
export type { PackageRolloutView, PackageUploadUrls, PackageVersionView } from './admin/packages.js';
export type { SettingsView } from './admin/settings.js';

/**
 * The write side of the fleet API, one module per resource under admin/.
 * The bucket is the source of truth: the API writes and deletes objects
 * exactly as `aws s3 cp` or `aws s3 sync` would, and the bucket ingest
 * records them, so that both ways of working meet in one place. Reads come
 * from the recorded metadata.
 */
export class FleetAdmin {
  constructor(private readonly deps: AdminDeps) {}

  listConfigs(): Promise<ConfigView[]> {
    return configs.listConfigs(this.deps);
  }

  /** One configuration; with `content`, each file's text as well. */
  getConfig(name: string, options: { content?: boolean } = {}): Promise<ConfigView> {
    return configs.getConfig(this.deps, name, options);
  }

  putConfig(name: string, files: readonly UploadedFile[]): Promise<{ name: string; hash: string }> {
    return configs.putConfig(this.deps, name, files);
  }

  deleteConfig(name: string): Promise<void> {
    return configs.deleteConfig(this.deps, name);
  }

  /** Whether configuration history is wired (its routes are served only then). */
  get keepsHistory(): boolean {
    return this.deps.history !== undefined;
  }

  listVersions(name: string, options: { limit: number; cursor?: string | undefined }): Promise<VersionListView> {
    return versions.listVersions(this.deps, name, options);
  }

  /** `hash` and `against` in base64. */
  getVersion(name: string, hash: string, against?: string): Promise<VersionDetailView> {
    return versions.getVersion(this.deps, name, hash, against);
  }

  restoreVersion(name: string, hash: string): Promise<{ name: string; hash: string }> {
    return versions.restoreVersion(this.deps, name, hash);
  }

  rollout(configName: string): Promise<RolloutView> {
    return configs.configRollout(this.deps, configName);
  }

  listAssignments(): Promise<AssignmentView[]> {
    return assignments.listAssignments(this.deps);
  }

  getAssignment(name: string): Promise<AssignmentView> {
    return assignments.getAssignment(this.deps, name);
  }

  putAssignment(name: string, document: AssignmentDocument): Promise<Omit<ConfigAssignment, 'error'>> {
    return assignments.putAssignment(this.deps, name, document);
  }

  deleteAssignment(name: string): Promise<void> {
    return assignments.deleteAssignment(this.deps, name);
  }

  listSettings(): Promise<SettingsView[]> {
    return settings.listSettings(this.deps);
  }

  getSettings(name: string): Promise<SettingsView> {
    return settings.getSettings(this.deps, name);
  }

  putSettings(name: string, document: SettingsDocument): Promise<ConnectionSettingsSpec> {
    return settings.putSettings(this.deps, name, document);
  }

  deleteSettings(name: string): Promise<void> {
    return settings.deleteSettings(this.deps, name);
  }

  listCertificates(): Promise<CertificateView[]> {
    return certificates.listCertificates(this.deps);
  }

  putCertificate(name: string, material: PemMaterial): Promise<CertificateAccepted> {
    return certificates.putCertificate(this.deps, name, material);
  }

  deleteCertificate(name: string): Promise<void> {
    return certificates.deleteCertificate(this.deps, name);
  }

  listPackages(): Promise<PackageVersionView[]> {
    return packages.listPackages(this.deps);
  }

  packageUploadUrls(folder: string, version: string, fileName: string, withSignature: boolean): Promise<PackageUploadUrls> {
    return packages.packageUploadUrls(this.deps, folder, version, fileName, withSignature);
  }

  deletePackage(folder: string, version: string): Promise<void> {
    return packages.deletePackage(this.deps, folder, version);
  }

  packageRollout(folder: string, version: string): Promise<PackageRolloutView> {
    return packages.packageRollout(this.deps, folder, version);
  }
}
