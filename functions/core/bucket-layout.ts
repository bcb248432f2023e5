import { isValidName, isValidVersion, keyViolation, NAME_RULE_TEXT, VERSION_RULE_TEXT } from './names.js';

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
 * Names and keys follow the rules in names.ts. A file name is everything
 * after the configuration's folder and may contain '/'. A key under one of
 * these prefixes that breaks the rules is rejected (and reported); keys
 * elsewhere are none of the fleet's business.
 */
export const CONFIGS_PREFIX = 'configs/';
export const ASSIGNMENTS_PREFIX = 'assignments/';
export const PACKAGES_PREFIX = 'packages/';
export const SIGNATURE_SUFFIX = '.sig';
export const SETTINGS_PREFIX = 'settings/';
export const CERTIFICATES_PREFIX = 'certificates/';
/**
 * In the server's own state bucket, which no operator workflow touches:
 * status sections too large for an item, by content hash.
 */
export const AGENT_STATE_PREFIX = 'agent-state/';
/**
 * Also in the state bucket: every file of every recorded configuration
 * version, by its SHA-256 (see core/config-history.ts), so that an earlier
 * version can be served again after the operator's bucket changed.
 */
export const CONFIG_HISTORY_PREFIX = 'config-history/';
/**
 * The agent itself is the package with the empty name (a top-level package).
 * Object keys cannot have an empty path segment, so the bucket spells it
 * `_agent`: packages/_agent/<version>/<file>.
 */
export const TOP_LEVEL_PACKAGE_FOLDER = '_agent';
/** The files a certificate folder may hold, by role. */
export const CERTIFICATE_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem' } as const;
export type CertificateRole = keyof typeof CERTIFICATE_FILES;

export type BucketObject =
  | { kind: 'config-file'; configName: string; fileName: string }
  | { kind: 'assignment'; name: string }
  /** `folder` is the package's folder name (`_agent` for the agent itself). */
  | { kind: 'package-file'; folder: string; version: string }
  | { kind: 'settings'; name: string }
  | { kind: 'certificate-file'; name: string; role: CertificateRole }
  /** Outside every managed prefix, or a folder marker: none of the fleet's business. */
  | { kind: 'ignored'; reason: string }
  /** Under a managed prefix but breaking the layout or the name rules: never read, and reported. */
  | { kind: 'rejected'; reason: string };

export const MANAGED_PREFIXES = [CONFIGS_PREFIX, ASSIGNMENTS_PREFIX, PACKAGES_PREFIX, SETTINGS_PREFIX, CERTIFICATES_PREFIX] as const;

export function classifyObjectKey(key: string): BucketObject {
  if (!MANAGED_PREFIXES.some((prefix) => key.startsWith(prefix))) {
    return { kind: 'ignored', reason: 'outside configs/, assignments/, packages/, settings/ and certificates/' };
  }
  // Consoles and some tools create empty "folder" objects; they hold nothing to record.
  if (key.endsWith('/') && (MANAGED_PREFIXES.some((prefix) => key === prefix) || !keyViolation(key.slice(0, -1)))) {
    return { kind: 'ignored', reason: 'a folder marker' };
  }
  const violation = keyViolation(key);
  if (violation) return { kind: 'rejected', reason: violation.message };
  return classifyManagedKey(key);
}

function classifyManagedKey(key: string): BucketObject {
  if (key.startsWith(CONFIGS_PREFIX)) {
    const rest = key.slice(CONFIGS_PREFIX.length);
    const slash = rest.indexOf('/');
    const configName = slash < 0 ? rest : rest.slice(0, slash);
    const fileName = slash < 0 ? '' : rest.slice(slash + 1);
    if (slash < 0) return { kind: 'rejected', reason: 'configuration files are configs/<config-name>/<file-name>' };
    if (!isValidName(configName)) return { kind: 'rejected', reason: `"${configName}" is not a valid configuration name (${NAME_RULE_TEXT})` };
    return { kind: 'config-file', configName, fileName };
  }
  if (key.startsWith(ASSIGNMENTS_PREFIX)) {
    const name = jsonDocumentName(key.slice(ASSIGNMENTS_PREFIX.length));
    if (!isValidName(name)) return { kind: 'rejected', reason: `assignments are assignments/<name>.json, names being ${NAME_RULE_TEXT}` };
    return { kind: 'assignment', name };
  }
  if (key.startsWith(PACKAGES_PREFIX)) {
    const [folder = '', version = '', ...file] = key.slice(PACKAGES_PREFIX.length).split('/');
    if (!isValidName(folder) && folder !== TOP_LEVEL_PACKAGE_FOLDER) return { kind: 'rejected', reason: `"${folder}" is not a valid package name (${NAME_RULE_TEXT})` };
    if (!isValidVersion(version)) return { kind: 'rejected', reason: `"${version}" is not a valid package version (${VERSION_RULE_TEXT})` };
    if (file.length === 0) return { kind: 'rejected', reason: 'packages are packages/<package>/<version>/<file>' };
    return { kind: 'package-file', folder, version };
  }
  if (key.startsWith(SETTINGS_PREFIX)) {
    const name = jsonDocumentName(key.slice(SETTINGS_PREFIX.length));
    if (!isValidName(name)) return { kind: 'rejected', reason: `settings are settings/<name>.json, names being ${NAME_RULE_TEXT}` };
    return { kind: 'settings', name };
  }
  const [name = '', file = '', ...rest] = key.slice(CERTIFICATES_PREFIX.length).split('/');
  const role = (Object.keys(CERTIFICATE_FILES) as CertificateRole[]).find((r) => CERTIFICATE_FILES[r] === file);
  if (!isValidName(name) || !role || rest.length > 0) return { kind: 'rejected', reason: 'certificates are certificates/<name>/cert.pem, key.pem or ca.pem' };
  return { kind: 'certificate-file', name, role };
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

/**
 * Object keys in S3 event notifications are URL-encoded, with spaces as '+'.
 * Undefined when the encoding does not decode to UTF-8 text.
 */
export function decodeEventKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * S3 sequencers order the events of one key. They are hex strings of varying
 * length: left-padded with zeros to one width, they compare as plain strings
 * (which is how DynamoDB compares them in conditions).
 */
export function comparableSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padStart(32, '0');
}
