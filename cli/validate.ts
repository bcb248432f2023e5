import { basename } from 'node:path';
import { configObjectKey, packageVersionPrefix, SIGNATURE_SUFFIX } from '../functions/core/bucket-layout.js';
import { isValidVersion, nameViolation, pathViolation, VERSION_RULE_TEXT } from '../functions/core/names.js';
import type { NameViolation } from '../functions/core/names.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from '../functions/core/packages.js';
import { CliError } from './api-client.js';

/*
 * Names and file names a command would send, checked with the server's own
 * rules before any request (or file read): a name the server would refuse
 * fails here with the same message.
 */

/** `path=name` chooses a configuration file's name; otherwise it is the file's own name. */
export function configFileSpec(spec: string): { path: string; fileName: string } {
  const eq = spec.lastIndexOf('=');
  return eq > 0 ? { path: spec.slice(0, eq), fileName: spec.slice(eq + 1) } : { path: spec, fileName: basename(spec) };
}

/** A configuration, assignment, settings, certificate or token name (when given). */
export function checkName(kind: string, name: string | undefined): void {
  if (name !== undefined) fail(nameViolation(kind, name));
}

export function checkConfigFiles(configName: string, specs: readonly string[]): void {
  for (const spec of specs) fail(pathViolation('file name', configFileSpec(spec).fileName, configObjectKey(configName, '')));
}

/** A package name (`_agent` for the agent itself) and, when given, a version and the file to upload. */
export function checkPackage(name: string | undefined, version?: string, file?: string, signed = false): void {
  if (name === undefined) return;
  if (name !== TOP_LEVEL_PACKAGE_FOLDER) fail(nameViolation('package', name));
  if (version === undefined) return;
  if (!isValidVersion(version)) throw new CliError(`package version ${JSON.stringify(version)} is not valid: versions are ${VERSION_RULE_TEXT}`);
  if (file === undefined) return;
  for (const f of [basename(file), ...(signed ? [`${basename(file)}${SIGNATURE_SUFFIX}`] : [])]) {
    fail(pathViolation('package file name', f, packageVersionPrefix(name, version)));
  }
}

function fail(violation: NameViolation | undefined): void {
  if (violation) throw new CliError(violation.message);
}
