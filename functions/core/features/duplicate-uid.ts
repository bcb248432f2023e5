import type { AgentToServer } from '../../gen/opamp/v1/opamp_pb.js';
import { ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { duplicateReason, identityOf, MAX_DUPLICATE_EVENTS, observe, startTimeOf } from '../duplicates.js';
import type { Observation } from '../duplicates.js';
import { instanceUidFromText } from '../instance-uid.js';
import { emptyRecord, finish, lazily, placeSections, stamp, successReply } from '../poll-record.js';
import type { PollDecision, PollEvent, PollInput } from '../poll-types.js';
import { gateReply } from '../reply-gates.js';
import type { SequenceVerdict } from '../sequence.js';
import { receivedMessage } from './commands-messages.js';
import { isFullReport } from './full-state.js';
import { applyStatus } from './status-report.js';

export function observation(message: AgentToServer, verdict: SequenceVerdict, stored: AgentRecord | undefined, now: number): Observation {
  return {
    identity: message.agentDescription ? identityOf(message.agentDescription) : undefined,
    startTime: message.health ? startTimeOf(message.health) : undefined,
    sequenceNum: message.sequenceNum,
    storedSeq: stored?.sequenceNum,
    reset: verdict === 'reset',
    gap: verdict === 'gap',
    now,
  };
}

/**
 * A lower number from a message a newer one overtook in flight is reordering,
 * not a second process counting on its own: it tells nothing about duplicates.
 */
export function outOfOrder(verdict: SequenceVerdict, input: PollInput): boolean {
  return verdict === 'reset' && input.overtaken === true;
}

/** Why this message looks like it comes from another agent than the one that has the uid, if it does. */
export function duplicateOf(stored: AgentRecord | undefined, seen: Observation, input: PollInput, verdict: SequenceVerdict): string | undefined {
  const { duplicateWindowMs } = input.options;
  if (!stored || outOfOrder(verdict, input) || duplicateWindowMs <= 0) return undefined;
  return duplicateReason(stored.fingerprint ?? {}, seen, duplicateWindowMs);
}

/**
 * Another agent is using this uid. The one that sent this message is given
 * its own uid, with this message's state; the record of the uid stays with
 * the agent that had it, and notes the event for the fleet API.
 */
export function splitDuplicate(args: { stored: AgentRecord; input: PollInput; seen: Observation; reason: string }): PollDecision {
  const { stored, input, seen, reason } = args;
  const events: PollEvent[] = [];
  const { message, now, options } = input;
  const newUid = input.newInstanceUid();
  events.push('duplicate-uid');
  const applied = applyStatus(emptyRecord(newUid, now, 0), message, now, input.rawSections);
  const newcomer = applied.record;
  newcomer.fingerprint = observe({}, { ...seen, reset: false, gap: false }, options.duplicateWindowMs);
  const reply = successReply(message, options);
  reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(newUid)! };
  if (!isFullReport(message, newcomer.capabilities)) {
    reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    newcomer.fullStateRequestedAt = now;
    newcomer.fullStateRequestedSeq = message.sequenceNum;
  }
  const sections = placeSections(newUid, applied.sections, stamp(input), newcomer);
  // A custom message in this message is the newcomer's: kept in its inbox.
  if (message.customMessage) {
    newcomer.inboxCount = 1;
    events.push('message-received');
  }
  const original: AgentRecord = {
    ...stored,
    duplicates: [...(stored.duplicates ?? []), { at: now, newInstanceUid: newUid, reason }].slice(-MAX_DUPLICATE_EVENTS),
  };
  return {
    reply: gateReply(reply, newcomer),
    records: [
      { record: finish(newcomer, now, options, lazily(input.messageDigest)), expectedVersion: 0 },
      { record: finish(original, stored.lastSeenAt, options), expectedVersion: stored.version },
    ],
    sections,
    sectionDeletes: [],
    events,
    ...(message.customMessage ? { inbox: { instanceUid: newUid, index: 1, message: receivedMessage(message.customMessage, now) } } : {}),
  };
}
