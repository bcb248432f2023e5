import { RejectedRequestError } from '../core/errors.js';

/** Errors the storage ports raise; adapters translate their SDK errors into these. */

/** A conditional write lost to a concurrent writer: re-read and decide again. */
export class WriteConflictError extends Error {
  override readonly name = 'WriteConflictError';

  constructor(
    readonly key: string,
    readonly expectedVersion: number,
    options?: ErrorOptions,
  ) {
    super(`record ${key} changed since it was read (expected version ${expectedVersion})`, options);
  }
}

/**
 * The store is throttling or unreachable. Retryable: the HTTP edge answers 503
 * with Retry-After, which agents retry with the same message.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(
    readonly store: 'dynamodb' | 's3' | 'certificates',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A pagination cursor that the store did not hand out. */
export class InvalidCursorError extends RejectedRequestError {
  override readonly name = 'InvalidCursorError';

  constructor() {
    super('invalid', 'invalid-cursor', 'cursor is not one this API returned');
  }
}

/** A store call (or the whole request) ran out of time. Retryable, like any store outage. */
export class DeadlineExceededError extends Error {
  // Named as the SDK names its own timeouts, so that the adapters' error translation treats both alike.
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';

  constructor(message = 'the request deadline passed before the store answered', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A token of that name exists already. */
export class TokenExistsError extends RejectedRequestError {
  override readonly name = 'TokenExistsError';

  constructor(message: string) {
    super('conflict', 'token-exists', message);
  }
}
