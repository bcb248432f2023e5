import { observe } from './duplicates.js';
import { desiredState } from './desired-state.js';
import { EMPTY_FLEET } from './fleet.js';
import { instanceUidToText } from './instance-uid.js';
import { applyOutcome, emptyRecord, finish, lazily, placeSections, requestsNewUid, retireSections, successReply } from './poll-record.js';
import type { FeatureOutcome, PollContext, PollDecision, PollEvent, PollInput } from './poll-types.js';
import { gateReply } from './reply-gates.js';
import { classifySequence, explainJump } from './sequence.js';
import { validateAgentToServer } from './validate-message.js';
import { deliverCommand, deliverMessages, expireCommand, receiveMessage } from './features/commands-messages.js';
import { noteCredentials, offerSettings } from './features/connection-settings.js';
import { duplicateOf, observation, outOfOrder, splitDuplicate } from './features/duplicate-uid.js';
import { mustWrite, noteCadence, pollIntervalFloor, quietNoisyEvents, requestFullState } from './features/full-state.js';
import { answerRetriedUidRequest, assignNewUid } from './features/instance-uid.js';
import { offerPackages } from './features/packages.js';
import { offerConfig } from './features/remote-config.js';
import { answerRetry } from './features/retried-message.js';
import { applyStatus, requestComponents, statusEvents } from './features/status-report.js';

/**
 * What a reply offers when it carries no command, in this order. Connection
 * settings come last: the poll interval they carry depends on whether anything
 * else is pending.
 */
const OFFERS: ReadonlyArray<(context: PollContext) => FeatureOutcome | undefined> = [offerConfig, offerPackages, deliverMessages, requestComponents, offerSettings];

/**
 * Decides the reply to one AgentToServer and the changes to the stored state.
 * Pure: everything it needs comes in through `input`, so that any number of
 * stateless function instances make the same decision for the same inputs.
 *
 * This is the order of things; each feature decides its own part (see
 * features/) and returns it, and the desired state of the agent is worked out
 * once here and handed to all of them.
 */
export function decidePoll(input: PollInput): PollDecision {
  const { message, options, now } = input;
  validateAgentToServer(message);
  const digest = lazily(input.messageDigest);
  const stampOf = lazily(input.writeId ?? `v${(input.record?.version ?? 0) + 1}`);
  const uid = instanceUidToText(message.instanceUid);
  const fleet = input.fleet ?? EMPTY_FLEET;

  if (input.record?.movedTo && requestsNewUid(message)) return answerRetriedUidRequest(input.record, input.record.movedTo, input);

  // A redirect record is not the agent's state: a message without the flag starts afresh.
  const stored = input.record?.movedTo ? undefined : input.record;
  const jump = explainJump(stored, message.sequenceNum, now, classifySequence(stored, message.sequenceNum, digest, now, pollIntervalFloor(stored, options)));
  const verdict = jump.verdict;
  if (verdict === 'duplicate' && stored) return answerRetry(stored, input, desiredState(stored, fleet));

  const base = stored ?? emptyRecord(uid, now, input.record?.version ?? 0);
  const seen = observation(message, verdict, stored, now);
  const duplicate = duplicateOf(stored, seen, input, verdict);
  if (stored && duplicate) return splitDuplicate({ stored, input, seen, reason: duplicate });

  const applied = applyStatus(base, message, now, input.rawSections);
  const next = applied.record;
  if (!outOfOrder(verdict, input)) next.fingerprint = observe(base.fingerprint ?? {}, seen, options.duplicateWindowMs);
  const context: PollContext = { input, record: next, desired: desiredState(next, fleet), verdict };
  const reply = successReply(message, options);
  const events: PollEvent[] = [];
  const attach: Pick<PollDecision, 'attachConfig' | 'attachPackages' | 'inbox' | 'quietEvents'> = {};
  const take = (outcome: FeatureOutcome | undefined) => applyOutcome(outcome, next, reply, events, attach);

  take(noteCredentials(context));
  take(noteCadence(jump));
  take({ events: statusEvents(applied, message, verdict) });
  const noisy = quietNoisyEvents(base, verdict, input);
  if (noisy.changes) take({ changes: noisy.changes });
  if (noisy.quiet.length > 0) attach.quietEvents = noisy.quiet;
  take(requestFullState(context, base));
  take(expireCommand(context));
  const command = deliverCommand(context, reply.flags);
  if (command) take(command);
  else for (const offer of OFFERS) take(offer(context));
  take(receiveMessage(context, base));

  if (requestsNewUid(message)) {
    const assigned = assignNewUid({ uid, base, next, reply, applied, input, events });
    // The agent's messages are kept under the uid it is known by from now on.
    const movedUid = assigned.records.at(-1)!.record.instanceUid;
    return { ...assigned, ...attach, ...(attach.inbox ? { inbox: { ...attach.inbox, instanceUid: movedUid } } : {}) };
  }

  const write = mustWrite({ stored, base, next, sectionsWritten: applied.sections.length > 0, verdict, message, now, options });
  const sections = applied.sections.length > 0 ? placeSections(uid, applied.sections, stampOf(), next) : [];
  const retired = retireSections(base, sections);
  if (retired.superseded.length > 0) next.supersededSections = retired.superseded;
  else delete next.supersededSections;
  const sectionDeletes = retired.deletes.map((ref) => ({ ...ref, instanceUid: uid }));
  const records = write ? [{ record: finish(next, now, options, digest), expectedVersion: input.record?.version ?? 0 }] : [];
  return { reply: gateReply(reply, next), records, sections, sectionDeletes, events, ...attach };
}
