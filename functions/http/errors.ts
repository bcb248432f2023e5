import type { ValidationIssue } from '../core/validation-text.js';
import { describeIssues } from '../core/validation-text.js';

/**
 * The one error type of the HTTP edge: a status, a stable machine-readable
 * code and a message for people. Routes throw it; `app.ts` turns it into a
 * response in one place.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 503,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Input that failed its schema, as one readable line: `limit: Too big: expected number to be <=1000`. */
export function badRequest(error: { issues: readonly ValidationIssue[] }): HttpError {
  return new HttpError(400, 'invalid-request', describeIssues(error.issues, 'input'));
}
