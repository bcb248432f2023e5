import { settingsObjectKey } from '../../core/bucket-layout.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import { DEFAULT_SETTINGS_NAME } from '../../core/fleet.js';
import { literalCredentialWarnings } from '../../core/secret-refs.js';
import { validateSettings } from '../../core/settings-file.js';
import type { SettingsDocument } from '../../core/settings-file.js';
import { bucketCertificates, certificateProblem } from './certificates.js';
import type { AdminDeps } from './deps.js';
import { byName, deleteOne, isoOrNull, NotFoundError, putJson } from './deps.js';

export interface SettingsView {
  name: string;
  /** The document in force: the last upload that validated (null if none ever did). */
  settings: ConnectionSettingsSpec | null;
  inForce: boolean;
  /** Why the latest upload was rejected (the previous document stays in force). */
  error: string | null;
  errorAt: string | null;
  /** Whether it is the document every agent gets when no assignment names one (`default`). */
  isDefault: boolean;
  /** The assignments in force that give it. */
  assignments: string[];
  /** The bucket certificates it refers to (certificates/<name>/). */
  certificates: string[];
  /** What keeps parts of it from being offered, as far as the bucket tells (missing or unusable certificates). */
  problems: string[];
  /** Literal credentials it holds (accepted, but they belong in secrets). */
  warnings: string[];
}

export async function listSettings(deps: AdminDeps): Promise<SettingsView[]> {
  const snapshot = await deps.fleet.load();
  return snapshot.settings
    .map((d) => {
      const certificates = d.settings ? bucketCertificates(d.settings) : [];
      return {
        name: d.name,
        settings: d.settings ?? null,
        inForce: d.settings !== undefined,
        error: d.error ?? null,
        errorAt: isoOrNull(d.errorAt),
        isDefault: d.name === DEFAULT_SETTINGS_NAME,
        assignments: snapshot.state.assignments
          .filter((a) => a.settings === d.name)
          .map((a) => a.name)
          .sort(),
        certificates,
        problems: certificates.flatMap((name) => certificateProblem(name, snapshot.state.certificates.get(name))),
        warnings: d.settings ? literalCredentialWarnings(d.settings) : [],
      };
    })
    .sort(byName);
}

export async function getSettings(deps: AdminDeps, name: string): Promise<SettingsView> {
  const view = (await listSettings(deps)).find((d) => d.name === name);
  if (!view) throw new NotFoundError(`no settings document named ${name}`);
  return view;
}

/** Validates and writes `settings/<name>.json`; throws SettingsFileError when invalid (nothing is written). */
export async function putSettings(deps: AdminDeps, name: string, document: SettingsDocument): Promise<ConnectionSettingsSpec> {
  const settings = validateSettings(document);
  await putJson(deps, settingsObjectKey(name), settings);
  return settings;
}

export async function deleteSettings(deps: AdminDeps, name: string): Promise<void> {
  await deleteOne(deps, settingsObjectKey(name), `no settings document named ${name}`);
}
