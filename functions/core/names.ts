/**
 * The one rule set for names and file names that become object keys (and
 * token names). Every entry checks with it: the fleet API, opampctl (before it
 * sends anything), the bucket ingest, and the local backend's embedded S3.
 *
 * Names of configurations, assignments, settings, certificates, packages and
 * tokens are 1-128 letters, digits, '.', '_' or '-', starting with a letter or
 * digit: one key segment that can never be '.' or '..'.
 *
 * File names (a configuration's files, a package's file) are freer, and may
 * hold '/' in configurations, so they follow the path rules below. Whole keys
 * follow the same rules, plus S3's length limit.
 */
import { InvalidNameError } from './errors.js';

/** S3 refuses keys longer than this many bytes of UTF-8. */
export const MAX_OBJECT_KEY_BYTES = 1024;

/**
 * Each key segment becomes a file or folder name in the local backend's
 * embedded S3, which file systems limit to 255 bytes; the emulator appends up
 * to 22 bytes of its own (`._S3rver_metadata.json`).
 */
export const MAX_SEGMENT_BYTES = 233;

export type NameRule = 'invalid-utf8' | 'empty' | 'control-character' | 'backslash' | 'empty-segment' | 'dot-segment' | 'segment-too-long' | 'key-too-long' | 'invalid-name';

export interface NameViolation {
  rule: NameRule;
  message: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Package versions also allow '+' (semantic version build metadata). */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
// C0 controls (NUL included), DEL and the C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A lone UTF-16 surrogate: what invalid bytes or escapes leave, and what has no UTF-8 form.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const NAME_RULE_TEXT = '1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const VERSION_RULE_TEXT = '1-128 letters, digits, ".", "_", "+" or "-", starting with a letter or digit';

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export function isValidVersion(version: string): boolean {
  return VERSION.test(version);
}

/** Why `name` cannot name a `kind` (configuration, token, ...), or undefined when it can. */
export function nameViolation(kind: string, name: string): NameViolation | undefined {
  if (isValidName(name)) return undefined;
  return { rule: 'invalid-name', message: `${kind} name ${quote(name)} is not valid: ${kind} names are ${NAME_RULE_TEXT}` };
}

/**
 * Why `path` (a file name, '/' between folders) cannot be part of an object
 * key, or undefined when it can. `keyPrefix` is what the key holds before it:
 * the whole key must stay within S3's limit.
 */
export function pathViolation(what: string, path: string, keyPrefix = ''): NameViolation | undefined {
  const problem = pathProblem(path);
  if (problem) return { rule: problem.rule, message: `${what} ${quote(path)} is not allowed: ${problem.text}` };
  const bytes = utf8Bytes(keyPrefix) + utf8Bytes(path);
  if (bytes > MAX_OBJECT_KEY_BYTES) {
    return {
      rule: 'key-too-long',
      message: `${what} ${quote(path)} is not allowed: its object key would be ${bytes} bytes, more than the ${MAX_OBJECT_KEY_BYTES} S3 takes`,
    };
  }
  return undefined;
}

/** Why a whole object key breaks the rules, or undefined when it does not. */
export function keyViolation(key: string): NameViolation | undefined {
  return pathViolation('object key', key);
}

function pathProblem(path: string): { rule: NameRule; text: string } | undefined {
  if (LONE_SURROGATE.test(path)) return { rule: 'invalid-utf8', text: 'it is not valid UTF-8 text' };
  if (path === '') return { rule: 'empty', text: 'it is empty' };
  const control = CONTROL.exec(path);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return { rule: 'control-character', text: `it contains a control character (U+${code}); control characters are not allowed` };
  }
  if (path.includes('\\')) return { rule: 'backslash', text: 'it contains a backslash; use "/" between folders' };
  for (const segment of path.split('/')) {
    if (segment === '') {
      return { rule: 'empty-segment', text: 'it has an empty path segment (a leading, trailing or double "/")' };
    }
    if (segment === '.' || segment === '..') {
      return { rule: 'dot-segment', text: `it has a "${segment}" path segment; "." and ".." are not allowed` };
    }
    const bytes = utf8Bytes(segment);
    if (bytes > MAX_SEGMENT_BYTES) {
      return { rule: 'segment-too-long', text: `a path segment is ${bytes} bytes, more than the ${MAX_SEGMENT_BYTES} allowed per segment` };
    }
  }
  return undefined;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A name as it can be shown in a message: JSON-quoted (control characters escaped) and cut when long. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 60)}...(${text.length} characters)` : text;
  return JSON.stringify(shown);
}

/** Throws InvalidNameError when there is a violation. */
export function assertNoViolation(violation: NameViolation | undefined): void {
  if (violation) throw new InvalidNameError(violation);
}
