import type { ConnectionSettingsSpec } from '../core/connection-settings.js';

/* What the fleet API shows of configurations, assignments, settings documents, certificates and packages. */

export interface ConfigFileView {
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  error?: string;
}

export interface ConfigView {
  name: string;
  /** Hex of the config hash agents receive; null while the configuration cannot be offered. */
  hash: string | null;
  files: ConfigFileView[];
  errors: string[];
}

export interface AssignmentView {
  name: string;
  config: string | null;
  /** Package name (`_agent` for the agent itself) to version. */
  packages: Record<string, string> | null;
  /** The connection settings document it gives. */
  settings: string | null;
  selector: string | null;
  instanceUid: string | null;
  priority: number | null;
  /** Whether the assignment takes part in targeting (it validated at least once). */
  inForce: boolean;
  /** Why the latest upload of the assignment file was rejected (its previous content stays in force). */
  error: string | null;
  errorAt: string | null;
}

export interface SettingsView {
  name: string;
  /** The document in force: the last upload that validated (null if none ever did). */
  settings: ConnectionSettingsSpec | null;
  inForce: boolean;
  /** Why the latest upload was rejected (the previous document stays in force). */
  error: string | null;
  errorAt: string | null;
  /** Whether it is the document every agent gets when no assignment names one (\`${DEFAULT_SETTINGS_NAME}\`). */
  isDefault: boolean;
  /** The assignments in force that give it. */
  assignments: string[];
  /** The bucket certificates it refers to (certificates/<name>/). */
  certificates: string[];
  /** What keeps parts of it from being offered, as far as the bucket tells (missing or unusable certificates). */
  problems: string[];
}

export interface CertificateView {
  name: string;
  /** Hex SHA-256 of the certificate (DER); null while the folder holds no usable certificate. */
  fingerprint: string | null;
  subject: string | null;
  notAfter: string | null;
  /** The files the folder holds. */
  files: { cert: boolean; key: boolean; ca: boolean };
  /** Why the material cannot be offered (no cert.pem, a key that does not match, ...). */
  error: string | null;
  /** The settings documents in force that refer to it. */
  settings: string[];
}

export interface PackageVersionView {
  /** The package's name in the bucket and in assignment files (`_agent` for the agent itself). */
  name: string;
  version: string;
  file: string;
  size: number;
  sha256: string;
  signed: boolean;
  error: string | null;
}
