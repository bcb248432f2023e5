import { z } from 'zod';
import type { ConfigAssignment } from './fleet.js';
import { isCanonicalInstanceUid } from './instance-uid.js';
import { isValidName } from './bucket-layout.js';
import { parseSelector, SelectorSyntaxError } from './selector.js';
import type { Selector } from './selector.js';

/**
 * An assignment file, `assignments/<name>.json`:
 *
 *   {"config": "checkout", "selector": "service.name=checkout,deployment.environment=prod", "priority": 10}
 *   {"config": "canary", "instanceUid": "0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6"}
 *
 * `selector` may also be an object of attribute values: {"service.name": "checkout"}.
 * Exactly one of `selector` and `instanceUid`; `priority` (an integer, default 0)
 * orders selector assignments. Unknown fields are errors, so typos do not pass silently.
 */
export const assignmentDocument = z
  .object({
    config: z.string().refine(isValidName, 'must be a configuration name (letters, digits, ".", "_", "-")'),
    selector: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
    instanceUid: z.string().refine(isCanonicalInstanceUid, 'must be a canonical UUID (8-4-4-4-12 hex digits)').optional(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  })
  .strict()
  .refine((d) => (d.selector === undefined) !== (d.instanceUid === undefined), 'set exactly one of "selector" and "instanceUid"');

export type AssignmentDocument = z.input<typeof assignmentDocument>;

export class AssignmentFileError extends Error {
  override readonly name = 'AssignmentFileError';
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
    throw new AssignmentFileError(parsed.error.issues.map((i) => `${i.path.join('.') || 'assignment'}: ${i.message}`).join('; '));
  }
  const doc = parsed.data;
  let selector: Selector | undefined;
  if (doc.selector !== undefined) {
    try {
      selector = typeof doc.selector === 'string'
        ? parseSelector(doc.selector)
        : parseSelector(Object.entries(doc.selector).map(([k, v]) => `${k}=${v}`).join(','));
    } catch (error) {
      if (error instanceof SelectorSyntaxError) throw new AssignmentFileError(`selector: ${error.message}`);
      throw error;
    }
  }
  return {
    name,
    config: doc.config,
    priority: doc.priority,
    ...(doc.instanceUid !== undefined ? { instanceUid: doc.instanceUid.toLowerCase() } : {}),
    ...(selector ? { selector } : {}),
  };
}
