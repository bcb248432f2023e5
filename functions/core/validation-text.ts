/** The parts of a schema validation issue (zod's) that are shown to people. */
export interface ValidationIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  /** For a rejected record key: why the key was rejected. */
  issues?: ReadonlyArray<{ message: string }>;
}

/**
 * Validation issues as one readable line: `ownMetrics.headers.x api key: header
 * names are HTTP tokens ...`. A rejected record key shows why it was rejected
 * rather than the generic "Invalid key in record".
 */
export function describeIssues(issues: readonly ValidationIssue[], root: string): string {
  return issues
    .map((issue) => {
      const reasons = issue.issues?.map((i) => i.message).filter((m) => m.length > 0) ?? [];
      const message = reasons.length > 0 ? reasons.join('; ') : issue.message;
      return `${issue.path.map(String).join('.') || root}: ${message}`;
    })
    .join('; ');
}
