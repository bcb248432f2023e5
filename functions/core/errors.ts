/**
 * Reasons the protocol core refuses a message. Each maps to one reply in the
 * HTTP edge; none of them is retryable by the agent.
 */
export type ProtocolErrorReason = 'malformed-message' | 'invalid-instance-uid';

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
