import * as z from './schema.js';
import { RejectedRequestError, SelectorSyntaxError } from './errors.js';
import { describeIssues } from './validation-text.js';
import type { ConfigAssignment } from './fleet.js';
import { isCanonicalInstanceUid } from './instance-uid.js';
import { isValidName, isValidVersion } from './names.js';
import { DEFAULT_ASSIGNMENT_NAME } from './fleet.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from './bucket-layout.js';
import { packageNameOfFolder } from './packages.js';
import { parseSelector } from './selector.js';
import type { Selector } from './selector.js';
import { policyOfDocument, rolloutPolicyDocument } from './rollouts/policy-document.js';
import type { RolloutPolicy } from './rollouts/policy.js';

/**
 * An assignment file, `assignments/<name>.json`:
 *
 *   {"config": "checkout", "selector": "service.name=checkout,deployment.environment=prod", "priority": 10}
 *   {"config": "canary", "instanceUid": "0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6"}
 *   {"packages": {"_agent": "0.141.0"}, "selector": "deployment.environment=staging"}
 *   {"packages": {"_agent": "0.140.0"}}                        (assignments/default.json)
 *   {"settings": "rotation-2026-12", "selector": "deployment.environment=prod"}
 *
 * `selector` may also be an object of attribute values: {"service.name": "checkout"}.
 * Exactly one of `selector` and `instanceUid`, except in the assignment named
 * `default`, which has neither: it is every agent's fallback. At least one of
 * `config`, `packages` (package name to version, `_agent` for the agent
 * itself) and `settings` (a connection settings document, settings/<name>.json). `priority` (an integer, default 0) orders selector assignments.
 * `rollout` stages changes of the configuration and package set (see
 * rollouts/policy.ts); on the `default` assignment it is also the fleet's
 * default policy, and may be its only field.
 * Unknown fields are errors, so typos do not pass silently.
 */
export const assignmentDocument = z
  .strictObject({
    config: z.optional(z.string().check(z.refine(isValidName, 'must be a configuration name (letters, digits, ".", "_", "-")'))),
    packages: z.optional(
      z.record(
        z.string().check(z.refine((n) => n === TOP_LEVEL_PACKAGE_FOLDER || isValidName(n), 'package names are letters, digits, ".", "_", "-" (or _agent)')),
        z.string().check(z.refine(isValidVersion, 'versions are 1-128 letters, digits, ".", "_", "+", "-"')),
      ),
    ),
    settings: z.optional(z.string().check(z.refine(isValidName, 'must be a settings document name (letters, digits, ".", "_", "-")'))),
    selector: z.optional(z.union([z.string(), z.record(z.string(), z.string())])),
    instanceUid: z.optional(z.string().check(z.refine(isCanonicalInstanceUid, 'must be a canonical UUID (8-4-4-4-12 hex digits)'))),
    priority: z._default(z.int().check(z.minimum(-1_000_000), z.maximum(1_000_000)), 0),
    rollout: z.optional(z.union([z.literal(false), rolloutPolicyDocument])),
  })
  .check(z.refine((d) => d.config !== undefined || d.packages !== undefined || d.settings !== undefined || d.rollout !== undefined, 'set at least one of "config", "packages" and "settings"'));

function checkTarget(name: string, doc: { selector?: unknown; instanceUid?: unknown }): void {
  const targets = Number(doc.selector !== undefined) + Number(doc.instanceUid !== undefined);
  if (name === DEFAULT_ASSIGNMENT_NAME) {
    if (targets !== 0) throw new AssignmentFileError(`the "${DEFAULT_ASSIGNMENT_NAME}" assignment applies to every agent: it takes no "selector" or "instanceUid"`);
  } else if (targets !== 1) {
    throw new AssignmentFileError('set exactly one of "selector" and "instanceUid"');
  }
}

export type AssignmentDocument = z.input<typeof assignmentDocument>;

export class AssignmentFileError extends RejectedRequestError {
  override readonly name = 'AssignmentFileError';

  constructor(message: string) {
    super('invalid', 'invalid-assignment', message);
  }
}

/** Parses and validates an assignment file; throws AssignmentFileError with one readable line. */
export function parseAssignment(name: string, text: string): Omit<ConfigAssignment, 'error'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AssignmentFileError(`not valid JSON: ${(error as Error).message}`);
  }
  return validateAssignment(name, json);
}

export function validateAssignment(name: string, json: unknown): Omit<ConfigAssignment, 'error'> {
  const parsed = assignmentDocument.safeParse(json);
  if (!parsed.success) {
    throw new AssignmentFileError(describeIssues(parsed.error.issues, 'assignment'));
  }
  const doc = parsed.data;
  checkTarget(name, doc);
  if (doc.config === undefined && doc.packages === undefined && doc.settings === undefined && name !== DEFAULT_ASSIGNMENT_NAME) {
    throw new AssignmentFileError('set at least one of "config", "packages" and "settings" ("rollout" alone belongs in the default assignment)');
  }
  let rollout: RolloutPolicy | false | undefined;
  if (doc.rollout !== undefined) {
    const policy = doc.rollout === false ? false : policyOfDocument(doc.rollout);
    if (typeof policy === 'string') throw new AssignmentFileError(`rollout.${policy}`);
    rollout = policy;
  }
  let selector: Selector | undefined;
  if (doc.selector !== undefined) {
    try {
      selector = typeof doc.selector === 'string' ? parseSelector(doc.selector) : selectorOfObject(doc.selector);
    } catch (error) {
      if (error instanceof SelectorSyntaxError) throw new AssignmentFileError(`selector: ${error.message}`);
      throw error;
    }
  }
  return {
    name,
    ...(doc.config !== undefined ? { config: doc.config } : {}),
    ...(doc.packages !== undefined ? { packages: Object.fromEntries(Object.entries(doc.packages).map(([folder, version]) => [packageNameOfFolder(folder), version])) } : {}),
    ...(doc.settings !== undefined ? { settings: doc.settings } : {}),
    priority: doc.priority,
    ...(doc.instanceUid !== undefined ? { instanceUid: doc.instanceUid.toLowerCase() } : {}),
    ...(selector ? { selector } : {}),
    ...(rollout !== undefined ? { rollout } : {}),
  };
}

/**
 * `{"service.name": "checkout"}` as a selector. Keys may not contain '=' or ','
 * and values may not contain ',': selectors are stored and shown in their
 * text form, which must read back as the same terms.
 */
function selectorOfObject(terms: Record<string, string>): Selector {
  const entries = Object.entries(terms);
  if (entries.length === 0) throw new SelectorSyntaxError('selector is empty: expected at least one attribute');
  return entries.map(([key, value]) => {
    if (key.trim() === '' || /[=,]/.test(key)) throw new SelectorSyntaxError(`attribute name "${key}" must be non-empty and free of "=" and ","`);
    if (value.includes(',')) throw new SelectorSyntaxError(`value "${value}" of ${key} may not contain ","`);
    return { key: key.trim(), value: value.trim() };
  });
}
