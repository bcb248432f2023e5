import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { validateAgentToServer } from '../core/validate-message.js';
import { errorText, ProtocolError } from '../core/errors.js';
import { instanceUidFromText } from '../core/instance-uid.js';
import { AgentToServerSchema, ServerErrorResponseType, ServerToAgentSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';

export const OPAMP_INSTANCE_UID_HEADER = 'OpAMP-Instance-UID';

/**
 * Decodes and validates an AgentToServer body. On failure the error carries
 * the instance uid if one can be read (the message's own, else the
 * `OpAMP-Instance-UID` header, else field 1 of a broken body), so that the
 * reply can still be addressed to the agent.
 */
export function decodeAgentToServer(body: Uint8Array, headerUid: string | undefined): AgentToServer {
  const fromHeader = headerUid ? instanceUidFromText(headerUid.trim()) : undefined;
  let message: AgentToServer;
  try {
    message = fromBinary(AgentToServerSchema, body);
  } catch (error) {
    throw new ProtocolError('malformed-message', `AgentToServer could not be decoded: ${errorText(error)}`, fromHeader ?? peekInstanceUid(body), { cause: error });
  }
  try {
    validateAgentToServer(message);
  } catch (error) {
    if (error instanceof ProtocolError && !error.instanceUid && fromHeader) {
      throw new ProtocolError(error.reason, error.message, fromHeader, { cause: error });
    }
    throw error;
  }
  return message;
}

/** Reads field 1 (instance_uid) from a body that may be broken after it. */
function peekInstanceUid(body: Uint8Array): Uint8Array | undefined {
  try {
    const reader = new BinaryReader(body);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) {
        const uid = reader.bytes();
        return uid.length === 16 ? uid : undefined;
      }
      reader.skip(wireType, field);
    }
  } catch {
    // Nothing readable.
  }
  return undefined;
}

export function encodeServerToAgent(reply: ServerToAgent): Uint8Array {
  return toBinary(ServerToAgentSchema, reply);
}

/** An error reply carries the uid and the error, nothing else. */
export function errorReply(instanceUid: Uint8Array, type: ServerErrorResponseType, message: string, retryAfterSeconds?: number): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid,
    errorResponse: {
      type,
      errorMessage: message,
      ...(retryAfterSeconds !== undefined ? { Details: { case: 'retryInfo', value: { retryAfterNanoseconds: BigInt(retryAfterSeconds) * 1_000_000_000n } } } : {}),
    },
  });
}

export { ServerErrorResponseType };
