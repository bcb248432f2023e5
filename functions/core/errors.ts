import type { NameRule, NameViolation } from './names.js';

/**
 * Reasons the protocol core refuses a message. Each maps to one reply in the
 * HTTP edge; none of them is retryable by the agent.
 */
export type ProtocolErrorReason = 'malformed-message' | 'invalid-instance-uid' | 'state-too-large';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly reason: ProtocolErrorReason,
    message: string,
    /** The instance uid the error reply should echo, when one could be read. */
    readonly instanceUid?: Uint8Array,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A request the server understood and refuses: bad input, something that does
 * not exist, or something the target cannot take. Each layer's own errors
 * extend it, so that the HTTP edge can answer them without knowing them all.
 */
export class RejectedRequestError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not-found' | 'conflict',
    /** Stable and machine-readable, e.g. `invalid-assignment`. */
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A name or file name that breaks a rule: answered 400, nothing written. */
export class InvalidNameError extends RejectedRequestError {
  override readonly name = 'InvalidNameError';
  readonly rule: NameRule;

  constructor(violation: NameViolation) {
    super('invalid', 'invalid-name', violation.message);
    this.rule = violation.rule;
  }
}

/** A selector that is not `key=value[,key=value...]`: answered 400 wherever it came in. */
export class SelectorSyntaxError extends RejectedRequestError {
  override readonly name = 'SelectorSyntaxError';

  constructor(message: string) {
    super('invalid', 'invalid-selector', message);
  }
}

/** An underlying error's message, kept to one line (for replies and reports). */
export function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}
