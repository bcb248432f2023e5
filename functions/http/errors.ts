import { NAME_RULE_TEXT, VERSION_RULE_TEXT } from '../core/names.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from '../core/bucket-layout.js';
import type { ValidationIssue } from '../core/validation-text.js';
import { describeIssues } from '../core/validation-text.js';

/**
 * The error vocabulary of the HTTP edge. Every fleet API failure has this
 * body, whichever route or layer it comes from:
 *
 *   {"error": {"code": "invalid-config-name", "message": "config name \"a b\" is not valid: ..."}}
 *
 * `code` is stable and machine-readable; `message` is for people. The codes
 * the edge itself decides are made here; the service layers' refusals
 * (RejectedRequestError: `invalid-assignment`, `token-in-use`, ...) keep their
 * own codes and get their status from their kind (see error-responses.ts).
 */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 503;

/**
 * The one error type of the HTTP edge: a status, a stable machine-readable
 * code and a message for people. Routes throw it; `error-responses.ts` turns
 * it into a response in one place.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: HttpErrorStatus,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What a path parameter names; each kind has its rule and its error code (`invalid-<kind>-name`, ...). */
export type PathParamKind = 'config' | 'assignment' | 'settings' | 'certificate' | 'token' | 'package' | 'package-version' | 'instance-uid' | 'config-hash' | 'rollout-aspect' | 'rollout-action';

export const PARAM_RULE_TEXT: Record<PathParamKind, string> = {
  config: `config names are ${NAME_RULE_TEXT}`,
  assignment: `assignment names are ${NAME_RULE_TEXT}`,
  settings: `settings names are ${NAME_RULE_TEXT}`,
  certificate: `certificate names are ${NAME_RULE_TEXT}`,
  token: `token names are ${NAME_RULE_TEXT}`,
  package: `package names are ${NAME_RULE_TEXT} (or ${TOP_LEVEL_PACKAGE_FOLDER} for the agent itself)`,
  'package-version': `versions are ${VERSION_RULE_TEXT}`,
  'instance-uid': 'instance uid must be a canonical UUID (8-4-4-4-12 hex digits)',
  'rollout-aspect': 'what the rollout moves: `config` or `packages`',
  'rollout-action': 'one of `pause`, `resume`, `abort` (roll back now) and `promote` (skip to 100 %)',
  'config-hash': 'config hashes are 32 bytes in base64url (as the versions listing shows them), standard base64 (URL-encoded) or hex',
};

/** The edge's own errors, so that each code is spelled and worded once. */
export const apiErrors = {
  /** A path parameter that breaks the rule of its kind; the message quotes it (escaped, cut when long). */
  invalidParam(kind: PathParamKind, value: string): HttpError {
    const plain = ['instance-uid', 'package-version', 'config-hash', 'rollout-aspect', 'rollout-action'].includes(kind);
    const code = plain ? `invalid-${kind}` : `invalid-${kind}-name`;
    const what = plain ? kind.replace('-', ' ') : `${kind} name`;
    const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 60)}...` : value);
    return new HttpError(400, code, `${what} ${shown} is not valid: ${PARAM_RULE_TEXT[kind]}`);
  },
  /** A body or query that does not match its schema, as one readable line. */
  invalidRequest(issues: readonly ValidationIssue[], code = 'invalid-request', root = 'input'): HttpError {
    return new HttpError(400, code, describeIssues(issues, root));
  },
  invalidJson(detail: string): HttpError {
    return new HttpError(400, 'invalid-json', `request body is not valid JSON: ${detail}`);
  },
  invalidUtf8(): HttpError {
    return new HttpError(400, 'invalid-utf8', 'request body is not valid UTF-8');
  },
  invalidSelector(message: string): HttpError {
    return new HttpError(400, 'invalid-selector', message);
  },
  tooLarge(maxBytes: number): HttpError {
    return new HttpError(413, 'payload-too-large', `request body exceeds ${maxBytes} bytes`);
  },
  unsupportedMediaType(expected: string): HttpError {
    return new HttpError(415, 'unsupported-media-type', `Content-Type must be ${expected}`);
  },
  methodNotAllowed(allow: readonly string[]): HttpError {
    return new HttpError(405, 'method-not-allowed', `use ${allow.join(', ')} for this path`, { allow: allow.join(', ') });
  },
  noRoute(method: string, path: string): HttpError {
    return new HttpError(404, 'not-found', `no route for ${method} ${path}`);
  },
  notFound(code: string, message: string): HttpError {
    return new HttpError(404, code, message);
  },
};
