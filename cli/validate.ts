import { basename } from 'node:path';
import { configObjectKey, packageVersionPrefix, SIGNATURE_SUFFIX } from '../functions/core/bucket-layout.js';
import { isValidVersion, nameViolation, pathViolation, VERSION_RULE_TEXT } from '../functions/core/names.js';
import type { NameViolation } from '../functions/core/names.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from '../functions/core/bucket-layout.js';
import { CliError } from './api-client.js';

/** `path=name` chooses a configuration file's name; otherwise it is the file's own name. */
export function configFileSpec(spec: string): { path: string; fileName: string } {
  const eq = spec.lastIndexOf('=');
  return eq > 0 ? { path: spec.slice(0, eq), fileName: spec.slice(eq + 1) } : { path: spec, fileName: basename(spec) };
}

/**
 * Checks the names and file names a command would send with the server's own
 * rules, before any request (or file read): a name the server would refuse
 * fails here with the same message.
 */
export function validateArguments(command: string, args: readonly string[], flags: { config?: string | undefined; settings?: string | undefined; package?: string[] | undefined; signature?: string | undefined }): void {
  const [sub, name, ...rest] = args;
  const named = (kind: string, value: string | undefined) => value !== undefined && fail(nameViolation(kind, value));
  switch (command) {
    case 'config':
      named('configuration', name);
      if (sub === 'upload' && name !== undefined) {
        for (const spec of rest) fail(pathViolation('file name', configFileSpec(spec).fileName, configObjectKey(name, '')));
      }
      return;
    case 'rollout':
      return void named('configuration', args[0]);
    case 'assign':
    case 'unassign':
      named('assignment', args[0]);
      named('configuration', flags.config);
      named('settings', flags.settings);
      for (const spec of flags.package ?? []) packageName(spec.slice(0, Math.max(0, spec.indexOf('='))));
      return;
    case 'package': {
      const [version, file] = rest;
      if (name !== undefined) packageName(name);
      if (version === undefined || name === undefined) return;
      if (!isValidVersion(version)) throw new CliError(`package version ${JSON.stringify(version)} is not valid: versions are ${VERSION_RULE_TEXT}`);
      if (sub === 'upload' && file !== undefined) {
        const files = [basename(file), ...(flags.signature !== undefined ? [`${basename(file)}${SIGNATURE_SUFFIX}`] : [])];
        for (const f of files) fail(pathViolation('package file name', f, packageVersionPrefix(name, version)));
      }
      return;
    }
    case 'settings':
      return void named('settings', name);
    case 'certificate':
      return void named('certificate', name);
    case 'token':
      return void named('token', name);
    default:
  }
}

function packageName(name: string): void {
  if (name !== TOP_LEVEL_PACKAGE_FOLDER) fail(nameViolation('package', name));
}

function fail(violation: NameViolation | undefined): false {
  if (violation) throw new CliError(violation.message);
  return false;
}
