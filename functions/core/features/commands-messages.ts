import { create } from '@bufbuild/protobuf';
import { CommandType, CustomCapabilitiesSchema, CustomMessageSchema, ServerToAgentCommandSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { CustomMessage } from '../../gen/opamp/v1/opamp_pb.js';
import { dueCommand, INBOX_LIMITS, nextMessage } from '../agent-commands.js';
import type { ReceivedMessage } from '../agent-commands.js';
import type { AgentRecord } from '../agent-record.js';
import { contentId, stableJson } from '../canonical-hash.js';
import { requestsNewUid } from '../poll-record.js';
import type { FeatureOutcome, PollContext, PollEvent, RecordChanges, ReplyPart } from '../poll-types.js';

/** A queued restart past its expiry is dropped, and noted as expired. */
export function expireCommand({ input, record: next }: PollContext): FeatureOutcome | undefined {
  const { now } = input;
  if (!next.pendingCommand || now < next.pendingCommand.expiresAt) return undefined;
  return {
    changes: {
      lastCommand: { type: next.pendingCommand.type, id: next.pendingCommand.id, queuedAt: next.pendingCommand.queuedAt, expiredAt: now },
      pendingCommand: undefined,
    },
    events: ['command-expired'],
  };
}

/**
 * A queued restart, when one is due. It travels alone, so it waits while the
 * reply must carry flags (a full-state request) or a new uid.
 */
export function deliverCommand({ input, record: next }: PollContext, replyFlags: bigint): FeatureOutcome | undefined {
  const { message, now } = input;
  const command = replyFlags === 0n && !requestsNewUid(message) ? dueCommand(next.pendingCommand, next.capabilities, now) : undefined;
  if (!command) return undefined;
  return {
    reply: { command: create(ServerToAgentCommandSchema, { type: CommandType.CommandType_Restart }) },
    changes: { lastCommand: { type: command.type, id: command.id, queuedAt: command.queuedAt, deliveredAt: now }, pendingCommand: undefined },
    events: ['command-delivered'],
  };
}

/** One queued custom message per reply, and the server's custom capabilities when the agent lacks them. */
export function deliverMessages({ input, record: next, verdict }: PollContext): FeatureOutcome {
  const changes: RecordChanges = {};
  const reply: ReplyPart = {};
  const events: PollEvent[] = [];
  // With the agent's list kept only in part, a queued message's capability may be in the part left out.
  const announced = next.customCapabilitiesTruncated ? [...(next.customCapabilities ?? []), ...(next.outbox ?? []).map((m) => m.capability)] : next.customCapabilities;
  const { deliver, expired } = nextMessage(next.outbox, announced, input.now);
  if (deliver || expired.length > 0) {
    const remaining = (next.outbox ?? []).filter((m) => m !== deliver && !expired.includes(m));
    changes.outbox = remaining.length > 0 ? remaining : undefined;
  }
  if (deliver) {
    reply.customMessage = create(CustomMessageSchema, {
      capability: deliver.capability,
      type: deliver.type,
      data: new Uint8Array(Buffer.from(deliver.data, 'base64')),
    });
    events.push('message-delivered');
  }
  const serverCaps = input.options.serverCustomCapabilities;
  if (serverCaps.length === 0) return { changes, reply, events };
  // A restarted agent has forgotten them.
  const capsHash = contentId(stableJson(serverCaps));
  if (next.sentCustomCapabilities !== capsHash || verdict === 'reset') {
    reply.customCapabilities = create(CustomCapabilitiesSchema, { capabilities: [...serverCaps] });
    changes.sentCustomCapabilities = capsHash;
  }
  return { changes, reply, events };
}

/** A custom message the agent sent, kept in its inbox under the next number. */
export function receiveMessage({ input, record: next }: PollContext, base: AgentRecord): FeatureOutcome | undefined {
  const { message, now } = input;
  if (!message.customMessage) return undefined;
  const index = (base.inboxCount ?? 0) + 1;
  return {
    changes: { inboxCount: index },
    events: ['message-received'],
    inbox: { instanceUid: next.instanceUid, index, message: receivedMessage(message.customMessage, now) },
  };
}

export function receivedMessage(message: CustomMessage, now: number): ReceivedMessage {
  const truncated = message.data.byteLength > INBOX_LIMITS.maxDataBytes;
  const data = truncated ? message.data.subarray(0, INBOX_LIMITS.maxDataBytes) : message.data;
  return { capability: message.capability, type: message.type, data: Buffer.from(data).toString('base64'), truncated, receivedAt: now };
}
