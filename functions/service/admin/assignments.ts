import { validateAssignment } from '../../core/assignment-file.js';
import type { AssignmentDocument } from '../../core/assignment-file.js';
import { assignmentObjectKey } from '../../core/bucket-layout.js';
import type { ConfigAssignment } from '../../core/fleet.js';
import { packageFolderOfName } from '../../core/packages.js';
import { formatSelector } from '../../core/selector.js';
import { policyDocumentOf } from '../../core/rollouts/policy.js';
import type { RolloutPolicy } from '../../core/rollouts/policy.js';
import type { AdminDeps } from './deps.js';
import { byName, deleteOne, isoOrNull, NotFoundError, putJson } from './deps.js';

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
  /** How changes reach its agents (steps, bake time, failure allowance); false: opted out of the fleet default; null: none set. */
  rollout: ReturnType<typeof policyDocumentOf> | false | null;
  /** Whether the assignment takes part in targeting (it validated at least once). */
  inForce: boolean;
  /** Why the latest upload of the assignment file was rejected (its previous content stays in force). */
  error: string | null;
  errorAt: string | null;
}

export async function listAssignments(deps: AdminDeps): Promise<AssignmentView[]> {
  const snapshot = await deps.fleet.load();
  return snapshot.assignments
    .map((a) => ({
      name: a.name,
      config: a.assignment?.config ?? null,
      packages: a.assignment?.packages ? packagesForPeople(a.assignment.packages) : null,
      settings: a.assignment?.settings ?? null,
      selector: a.assignment?.selector ? formatSelector(a.assignment.selector) : null,
      instanceUid: a.assignment?.instanceUid ?? null,
      priority: a.assignment?.priority ?? null,
      rollout: policyView(a.assignment?.rollout),
      inForce: a.assignment !== undefined,
      error: a.error ?? null,
      errorAt: isoOrNull(a.errorAt),
    }))
    .sort(byName);
}

export async function getAssignment(deps: AdminDeps, name: string): Promise<AssignmentView> {
  const assignment = (await listAssignments(deps)).find((a) => a.name === name);
  if (!assignment) throw new NotFoundError(`no assignment named ${name}`);
  return assignment;
}

/** Validates and writes `assignments/<name>.json`; throws AssignmentFileError when invalid (nothing is written). */
export async function putAssignment(deps: AdminDeps, name: string, document: AssignmentDocument): Promise<Omit<ConfigAssignment, 'error'>> {
  const assignment = validateAssignment(name, document);
  await putJson(deps, assignmentObjectKey(name), {
    ...(assignment.config !== undefined ? { config: assignment.config } : {}),
    ...(assignment.packages !== undefined ? { packages: packagesForPeople(assignment.packages) } : {}),
    ...(assignment.settings !== undefined ? { settings: assignment.settings } : {}),
    ...(assignment.selector ? { selector: formatSelector(assignment.selector) } : {}),
    ...(assignment.instanceUid ? { instanceUid: assignment.instanceUid } : {}),
    priority: assignment.priority,
    ...(assignment.rollout !== undefined ? { rollout: policyView(assignment.rollout) } : {}),
  });
  return assignment;
}

export async function deleteAssignment(deps: AdminDeps, name: string): Promise<void> {
  await deleteOne(deps, assignmentObjectKey(name), `no assignment named ${name}`);
}

function policyView(policy: RolloutPolicy | false | undefined): AssignmentView['rollout'] {
  return policy === undefined ? null : policy === false ? false : policyDocumentOf(policy);
}

/** Package sets with the agent itself spelled as in the bucket and in assignment files. */
function packagesForPeople(packages: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(packages).map(([name, version]) => [packageFolderOfName(name), version]));
}
