import { ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { instanceUidFromText } from '../instance-uid.js';
import { finish, lazily, placeSections, stamp, successReply } from '../poll-record.js';
import type { PollDecision, PollEvent, PollInput } from '../poll-types.js';
import { gateReply } from '../reply-gates.js';
import type { SectionKind } from '../sections.js';
import type { AppliedStatus } from './status-report.js';

/** A retried RequestInstanceUid: the uid was assigned already; answer the same. */
export function answerRetriedUidRequest(redirect: AgentRecord, movedTo: string, input: PollInput): PollDecision {
  const { message, options } = input;
  const reply = successReply(message, options);
  reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(movedTo)! };
  if (redirect.fullStateRequestedSeq === message.sequenceNum) reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
  return { reply: gateReply(reply, redirect), records: [], sections: [], sectionDeletes: [], events: ['duplicate'] };
}

/**
 * The agent gets a new uid: its state moves to the new uid, and the temporary
 * uid's record keeps a pointer so that a retry gets the same answer. The
 * pointer is written first: it is what makes the assignment stable.
 */
export function assignNewUid(args: { uid: string; base: AgentRecord; next: AgentRecord; reply: ServerToAgent; applied: AppliedStatus; input: PollInput; events: readonly PollEvent[] }): PollDecision {
  const { uid, base, next, applied, input } = args;
  const { now, options } = input;
  const newUid = input.newInstanceUid();
  const events: PollEvent[] = [...args.events, 'instance-uid-assigned'];
  const reply: ServerToAgent = {
    ...args.reply,
    agentIdentification: { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: instanceUidFromText(newUid)! },
  };

  const redirect = finish({ ...next, movedTo: newUid }, now, options, lazily(input.messageDigest));
  redirect.expiresAt = Math.floor((now + options.redirectRetentionMs) / 1000);
  const moved = finish({ ...next, instanceUid: newUid, version: 0, sectionIds: { ...next.sectionIds } }, now, options, lazily(input.messageDigest));
  delete moved.supersededSections;
  const written = placeSections(newUid, applied.sections, stamp(input), moved);
  redirect.sections = { ...base.sections };
  redirect.sectionIds = { ...base.sectionIds };
  // Sections the temporary uid had stored before and that this message did not replace.
  const carried = (Object.entries(base.sectionIds) as Array<[SectionKind, string]>).filter(([kind]) => !applied.sections.some((s) => s.kind === kind)).map(([kind, id]) => ({ kind, id }));
  return {
    reply: gateReply(reply, next),
    records: [
      { record: redirect, expectedVersion: input.record?.version ?? 0 },
      { record: moved, expectedVersion: 0 },
    ],
    sections: written,
    sectionDeletes: [],
    ...(carried.length > 0 ? { copySections: { from: uid, to: newUid, sections: carried } } : {}),
    events,
  };
}
