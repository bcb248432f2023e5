/**
 * An answer that came back but could not be read (cut short, not the JSON or XML
 * it claims to be): the SDK attaches the raw response but, unlike a service
 * error, no fault. The request may or may not have been applied, as when an
 * answer is lost, so it is worth retrying.
 */
export function isUnreadableResponse(error: { $response?: unknown; $fault?: unknown }): boolean {
  return error.$response !== undefined && error.$fault === undefined;
}
