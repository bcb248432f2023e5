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
