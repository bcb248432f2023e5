import type { AgentToServer } from '../gen/opamp/v1/opamp_pb.js';
import { ProtocolError } from './errors.js';
import { isInstanceUidBytes } from './instance-uid.js';

/** Rejects messages the protocol forbids before any storage is touched. */
export function validateAgentToServer(message: AgentToServer): void {
  if (!isInstanceUidBytes(message.instanceUid)) {
    throw new ProtocolError('invalid-instance-uid', `instance_uid must be 16 bytes, got ${message.instanceUid.length}`, message.instanceUid.length > 0 ? message.instanceUid : undefined);
  }
}
