import { ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import type { DesiredState } from '../desired-state.js';
import { refreshLastSeen, successReply } from '../poll-record.js';
import type { PollDecision, PollInput } from '../poll-types.js';
import { gateReply } from '../reply-gates.js';
import { reofferedSettings } from './connection-settings.js';
import { packagesReply, reofferedPackages } from './packages.js';
import { reofferedConfig, remoteConfigReply } from './remote-config.js';

/**
 * The answer to a message the server has seen already (its reply was lost):
 * the same flags, and the offers that reply carried, when they still hold.
 */
export function answerRetry(stored: AgentRecord, input: PollInput, desired: DesiredState): PollDecision {
  const { message, options, now } = input;
  const reply = successReply(message, options);
  if (stored.fullStateRequestedSeq === message.sequenceNum) reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
  // The retried message's reply carried an offer: carry it again (the first reply was lost).
  const reoffer = reofferedConfig(stored, input);
  if (reoffer) reply.remoteConfig = remoteConfigReply(reoffer);
  const repackage = stored.packagesOffer?.offeredSeq === message.sequenceNum ? reofferedPackages(stored, desired) : undefined;
  if (repackage) reply.packagesAvailable = packagesReply(repackage);
  const resettle = stored.settingsOffer?.offeredSeq === message.sequenceNum ? reofferedSettings(stored, input, desired) : undefined;
  if (resettle) reply.connectionSettings = resettle;
  const records = now - stored.lastSeenAt >= options.lastSeenRefreshMs ? [refreshLastSeen(stored, now, options)] : [];
  const gated = gateReply(reply, stored);
  return {
    reply: gated,
    records,
    sections: [],
    sectionDeletes: [],
    events: ['duplicate'],
    ...(reoffer && gated.remoteConfig ? { attachConfig: reoffer } : {}),
    ...(repackage && gated.packagesAvailable ? { attachPackages: repackage } : {}),
  };
}
