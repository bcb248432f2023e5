/**
 * The bucket is the source of truth for what the fleet should run:
 *
 *   configs/<config-name>/<file-name>     one file of a configuration
 *   assignments/<assignment-name>.json    who gets which configuration
 *
 * Names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or
 * digit. A file name is everything after the configuration's folder and may
 * contain '/'.
 */
export const CONFIGS_PREFIX = 'configs/';
export const ASSIGNMENTS_PREFIX = 'assignments/';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type BucketObject =
  | { kind: 'config-file'; configName: string; fileName: string }
  | { kind: 'assignment'; name: string }
  | { kind: 'ignored'; reason: string };

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
    const file = key.slice(ASSIGNMENTS_PREFIX.length);
    const name = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
    if (!isValidName(name)) return { kind: 'ignored', reason: 'assignments are assignments/<name>.json with a valid name' };
    return { kind: 'assignment', name };
  }
  return { kind: 'ignored', reason: 'outside configs/ and assignments/' };
}

export const configObjectKey = (configName: string, fileName: string) => `${CONFIGS_PREFIX}${configName}/${fileName}`;
export const assignmentObjectKey = (name: string) => `${ASSIGNMENTS_PREFIX}${name}.json`;

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
