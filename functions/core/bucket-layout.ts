import { TOP_LEVEL_PACKAGE_FOLDER } from './packages.js';

/**
 * The bucket is the source of truth for what the fleet should run:
 *
 *   configs/<config-name>/<file-name>     one file of a configuration
 *   assignments/<assignment-name>.json    who gets which configuration and packages
 *   packages/<package>/<version>/<file>   one package version (one file, and
 *                                         optionally <file>.sig, a detached signature)
 *   settings/<settings-name>.json         connection settings offered to agents
 *   certificates/<name>/cert.pem          a TLS certificate offered in connection
 *   certificates/<name>/key.pem           settings, its private key and its CA
 *   certificates/<name>/ca.pem            (key.pem and ca.pem are optional)
 *
 * Names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or
 * digit. A file name is everything after the configuration's folder and may
 * contain '/'.
 */
export const CONFIGS_PREFIX = 'configs/';
export const ASSIGNMENTS_PREFIX = 'assignments/';
export const PACKAGES_PREFIX = 'packages/';
export const SIGNATURE_SUFFIX = '.sig';
export const SETTINGS_PREFIX = 'settings/';
export const CERTIFICATES_PREFIX = 'certificates/';
/** The files a certificate folder may hold, by role. */
export const CERTIFICATE_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem' } as const;
export type CertificateRole = keyof typeof CERTIFICATE_FILES;

/** Package versions: 1-128 letters, digits, '.', '_', '+' or '-', starting with a letter or digit. */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type BucketObject =
  | { kind: 'config-file'; configName: string; fileName: string }
  | { kind: 'assignment'; name: string }
  /** `folder` is the package's folder name (`_agent` for the agent itself). */
  | { kind: 'package-file'; folder: string; version: string }
  | { kind: 'settings'; name: string }
  | { kind: 'certificate-file'; name: string; role: CertificateRole }
  | { kind: 'ignored'; reason: string };

export function isValidVersion(version: string): boolean {
  return VERSION.test(version);
}

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export function classifyObjectKey(key: string): BucketObject {
  if (key.startsWith(CONFIGS_PREFIX)) {
    const rest = key.slice(CONFIGS_PREFIX.length);
    const slash = rest.indexOf('/');
    const configName = slash < 0 ? rest : rest.slice(0, slash);
    const fileName = slash < 0 ? '' : rest.slice(slash + 1);
    if (!isValidName(configName)) return { kind: 'ignored', reason: `"${configName}" is not a valid configuration name` };
    if (fileName === '' || fileName.endsWith('/')) return { kind: 'ignored', reason: 'not a file (a folder marker or a file outside a configuration folder)' };
    return { kind: 'config-file', configName, fileName };
  }
  if (key.startsWith(ASSIGNMENTS_PREFIX)) {
    const name = jsonDocumentName(key.slice(ASSIGNMENTS_PREFIX.length));
    if (!isValidName(name)) return { kind: 'ignored', reason: 'assignments are assignments/<name>.json with a valid name' };
    return { kind: 'assignment', name };
  }
  if (key.startsWith(PACKAGES_PREFIX)) {
    const [folder = '', version = '', ...file] = key.slice(PACKAGES_PREFIX.length).split('/');
    if (!isValidName(folder) && folder !== TOP_LEVEL_PACKAGE_FOLDER) return { kind: 'ignored', reason: `"${folder}" is not a valid package name` };
    if (!isValidVersion(version)) return { kind: 'ignored', reason: `"${version}" is not a valid package version` };
    if (file.length === 0 || file.join('/') === '' || key.endsWith('/')) return { kind: 'ignored', reason: 'packages are packages/<package>/<version>/<file>' };
    return { kind: 'package-file', folder, version };
  }
  if (key.startsWith(SETTINGS_PREFIX)) {
    const name = jsonDocumentName(key.slice(SETTINGS_PREFIX.length));
    if (!isValidName(name)) return { kind: 'ignored', reason: 'settings are settings/<name>.json with a valid name' };
    return { kind: 'settings', name };
  }
  if (key.startsWith(CERTIFICATES_PREFIX)) {
    const [name = '', file = '', ...rest] = key.slice(CERTIFICATES_PREFIX.length).split('/');
    const role = (Object.keys(CERTIFICATE_FILES) as CertificateRole[]).find((r) => CERTIFICATE_FILES[r] === file);
    if (!isValidName(name) || !role || rest.length > 0) return { kind: 'ignored', reason: 'certificates are certificates/<name>/cert.pem, key.pem or ca.pem' };
    return { kind: 'certificate-file', name, role };
  }
  return { kind: 'ignored', reason: 'outside configs/, assignments/, packages/, settings/ and certificates/' };
}

function jsonDocumentName(file: string): string {
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
}

export const packageVersionPrefix = (folder: string, version: string) => `${PACKAGES_PREFIX}${folder}/${version}/`;

export const configObjectKey = (configName: string, fileName: string) => `${CONFIGS_PREFIX}${configName}/${fileName}`;
export const assignmentObjectKey = (name: string) => `${ASSIGNMENTS_PREFIX}${name}.json`;
export const settingsObjectKey = (name: string) => `${SETTINGS_PREFIX}${name}.json`;
export const certificateFolder = (name: string) => `${CERTIFICATES_PREFIX}${name}/`;
export const certificateObjectKey = (name: string, role: CertificateRole) => `${certificateFolder(name)}${CERTIFICATE_FILES[role]}`;

/** Object keys in S3 event notifications are URL-encoded, with spaces as '+'. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * S3 sequencers order the events of one key. They are hex strings of varying
 * length: left-padded with zeros to one width, they compare as plain strings
 * (which is how DynamoDB compares them in conditions).
 */
export function comparableSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padStart(32, '0');
}
