/** The parts of a schema validation issue (zod's) that are shown to people. */
export interface ValidationIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  /** For a rejected record key: why the key was rejected. */
  issues?: ReadonlyArray<{ message: string }>;
  /** For a value that matched no alternative of a union: each alternative's issues. */
  errors?: ReadonlyArray<ReadonlyArray<ValidationIssue>>;
}

/**
 * Validation issues as one readable line: `ownMetrics.headers.x api key: header
 * names are HTTP tokens ...`. A rejected record key shows why it was rejected
 * rather than the generic "Invalid key in record".
 */
export function describeIssues(issues: readonly ValidationIssue[], root: string): string {
  return issues
    .flatMap(explainUnion)
    .map((issue) => {
      const reasons = issue.issues?.map((i) => i.message).filter((m) => m.length > 0) ?? [];
      const message = reasons.length > 0 ? reasons.join('; ') : issue.message;
      return `${issue.path.map(String).join('.') || root}: ${message}`;
    })
    .join('; ');
}

/**
 * A value that matched no alternative of a union (`false` or a policy
 * object, ...): when one alternative got further into the value (its issues
 * have paths inside it), its issues say what is wrong; otherwise the union's
 * own message stands.
 */
function explainUnion(issue: ValidationIssue): ValidationIssue[] {
  const deepest = issue.errors?.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
  if (deepest?.length !== 1) return [issue];
  return deepest[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] })).flatMap(explainUnion);
}
