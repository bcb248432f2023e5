import { AgentCapabilities, ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { agentHas } from '../capabilities.js';
import type { CoreOptions } from '../core-options.js';
import type { FeatureOutcome, PollContext, PollEvent } from '../poll-types.js';
import type { SequenceVerdict } from '../sequence.js';
import { stateChanged } from '../poll-record.js';

/*
 * Sequence numbers: what a gap, a reset or an unknown agent ask of the reply
 * (a full state report) and of the store (a new baseline).
 */

/**
 * The shortest interval between this agent's polls the server expects: the
 * configured floor, or the interval the server itself asked for when shorter.
 */
export function pollIntervalFloor(stored: AgentRecord | undefined, options: CoreOptions): number {
  const asked = stored?.heartbeatSeconds;
  return asked !== undefined && asked > 0 ? Math.min(options.minPollIntervalMs, asked * 1000) : options.minPollIntervalMs;
}

export function verdictEvents(verdict: SequenceVerdict): PollEvent[] {
  switch (verdict) {
    case 'first':
      return ['new-agent'];
    case 'gap':
      return ['sequence-gap'];
    case 'reset':
      return ['sequence-reset'];
    default:
      return [];
  }
}

/**
 * Whether the message carries every section the agent's capabilities promise.
 * Only then can the server skip asking for the full state after a gap.
 */
export function isFullReport(message: AgentToServer, capabilities: bigint): boolean {
  if (!message.agentDescription) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsHealth) && !message.health) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsEffectiveConfig) && !message.effectiveConfig) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig) && !message.remoteConfigStatus) return false;
  if (agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsPackageStatuses) && !message.packageStatuses) return false;
  return true;
}

/**
 * ReportFullState is asked for when the server's view may be incomplete (an
 * unknown agent, a gap or a counter reset) and the message itself is not a
 * full report. Apart from an unknown
 * agent it is asked at most once per `fullStateRetryMs`, so that a client that
 * misnumbers its messages cannot make every poll a full upload.
 */
function shouldRequestFullState(
  verdict: SequenceVerdict,
  base: AgentRecord,
  message: AgentToServer,
  capabilities: bigint,
  now: number,
  options: CoreOptions,
): boolean {
  const suspect = verdict === 'first' || verdict === 'gap' || verdict === 'reset';
  if (!suspect || isFullReport(message, capabilities)) return false;
  if (verdict === 'first') return true;
  return base.fullStateRequestedAt === undefined || now - base.fullStateRequestedAt >= options.fullStateRetryMs;
}

/** ReportFullState in this reply, when the server's view of the agent may be incomplete. */
export function requestFullState({ input, record: next, verdict }: PollContext, base: AgentRecord): FeatureOutcome | undefined {
  const { message, now, options } = input;
  if (!shouldRequestFullState(verdict, base, message, next.capabilities, now, options)) return undefined;
  return {
    flags: BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState),
    changes: { fullStateRequestedAt: now, fullStateRequestedSeq: message.sequenceNum },
    events: ['full-state-requested'],
  };
}

/**
 * Whether this poll writes the agent's record. A gap is not written unless
 * full state is asked for: an agent polling faster than expected would
 * otherwise cause a write every other poll. What makes a good new baseline is
 * written even when it changed nothing: a reset counter, a full report after a
 * gap, and the answer to a full-state request.
 */
export function mustWrite(args: {
  stored: AgentRecord | undefined;
  base: AgentRecord;
  next: AgentRecord;
  sectionsWritten: boolean;
  verdict: SequenceVerdict;
  message: AgentToServer;
  now: number;
  options: CoreOptions;
}): boolean {
  const { stored, base, next, verdict, message, now, options } = args;
  const answersFullStateRequest = base.fullStateRequestedSeq !== undefined &&
    message.sequenceNum === base.fullStateRequestedSeq + 1n;
  const rebaseline = verdict === 'reset' || answersFullStateRequest || (verdict === 'gap' && isFullReport(message, next.capabilities));
  return !stored || args.sectionsWritten || rebaseline || stateChanged(base, next) ||
    now - base.lastSeenAt >= options.lastSeenRefreshMs;
}
