import { AgentCapabilities, ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { agentHas } from '../capabilities.js';
import type { CoreOptions } from '../core-options.js';
import type { FeatureOutcome, PollContext, PollEvent, PollInput } from '../poll-types.js';
import { ProtocolError } from '../errors.js';
import { RECORD_BOUNDS, recordFits } from '../record-bounds.js';
import { shouldLogNoisy } from '../sequence.js';
import type { JumpExplanation, SequenceVerdict } from '../sequence.js';
import { recordState, stateChanged } from '../poll-record.js';

/*
 * Sequence numbers: what a gap, a reset or an unknown agent ask of the reply
 * (a full state report) and of the store (a new baseline), the poll cadence
 * they reveal, and how often they are logged.
 */

/**
 * The shortest interval between this agent's polls the server expects: the
 * configured floor, or the interval the server itself asked for, or the
 * cadence the agent has shown, whichever is shortest.
 */
export function pollIntervalFloor(stored: AgentRecord | undefined, options: CoreOptions): number {
  const asked = stored?.heartbeatSeconds;
  const floor = asked !== undefined && asked > 0 ? Math.min(options.minPollIntervalMs, asked * 1000) : options.minPollIntervalMs;
  return Math.min(floor, stored?.pollCadenceMs ?? floor);
}

/** Keeps what the sequence jump showed about the agent's cadence (see explainJump). */
export function noteCadence(jump: JumpExplanation): FeatureOutcome | undefined {
  if (jump.cadenceMs !== undefined) return { changes: { pollCadenceMs: jump.cadenceMs, cadenceCandidateMs: undefined } };
  if (jump.candidateMs !== undefined) return { changes: { cadenceCandidateMs: jump.candidateMs } };
  return undefined;
}

/**
 * Gaps and resets are logged once per agent per window; the ones within the
 * window are returned, to be counted only. Logging one stamps the record,
 * which costs at most one write per window for an agent that keeps misnumbering.
 */
export function quietNoisyEvents(base: AgentRecord, verdict: SequenceVerdict, input: PollInput): { quiet: PollEvent[]; changes?: FeatureOutcome['changes'] } {
  const noisy = verdictEvents(verdict).filter((e) => e === 'sequence-gap' || e === 'sequence-reset');
  if (noisy.length === 0) return { quiet: [] };
  if (!shouldLogNoisy(base, input.now, input.options.noisyEventLogWindowMs)) return { quiet: noisy };
  return { quiet: [], changes: { noisyEventLoggedAt: input.now } };
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
function shouldRequestFullState(verdict: SequenceVerdict, base: AgentRecord, message: AgentToServer, capabilities: bigint, now: number, options: CoreOptions): boolean {
  const suspect = verdict === 'first' || verdict === 'gap' || verdict === 'reset';
  if (!suspect || isFullReport(message, capabilities)) return false;
  if (verdict === 'first') return true;
  return base.fullStateRequestedAt === undefined || now - base.fullStateRequestedAt >= options.fullStateRetryMs;
}

/** Whether this message answers the outstanding full-state request. */
function answersFullStateRequest(base: AgentRecord, message: AgentToServer): boolean {
  return base.fullStateRequestedSeq !== undefined && message.sequenceNum === base.fullStateRequestedSeq + 1n;
}

/**
 * ReportFullState in this reply, when the server's view of the agent may be
 * incomplete. A full report answers an outstanding request: the retry
 * throttle holds only while a request is unanswered, so a later gap is asked
 * about again.
 */
export function requestFullState({ input, record: next, verdict }: PollContext, base: AgentRecord): FeatureOutcome | undefined {
  const { message, now, options } = input;
  const answered = answersFullStateRequest(base, message) || isFullReport(message, next.capabilities);
  const current: AgentRecord = answered ? { ...next, fullStateRequestedAt: undefined, fullStateRequestedSeq: undefined } : next;
  if (!shouldRequestFullState(verdict, current, message, next.capabilities, now, options)) {
    return answered ? { changes: { fullStateRequestedAt: undefined, fullStateRequestedSeq: undefined } } : undefined;
  }
  return {
    flags: BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState),
    changes: { fullStateRequestedAt: now, fullStateRequestedSeq: message.sequenceNum },
    events: ['full-state-requested'],
  };
}

/**
 * Whether this poll writes the agent's record. A gap is not written unless
 * full state is asked for, a cadence learned, or the gap logged (once per
 * window): an agent polling faster than expected would otherwise cause a
 * write every other poll. What makes a good new baseline is written even when
 * it changed nothing: a reset counter, a full report after a gap, and the
 * answer to a full-state request.
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
  const rebaseline = verdict === 'reset' || answersFullStateRequest(base, message) || (verdict === 'gap' && isFullReport(message, next.capabilities));
  const write = !stored || args.sectionsWritten || rebaseline || stateChanged(base, next) || now - base.lastSeenAt >= options.lastSeenRefreshMs;
  if (write) {
    // Measured only for records about to be written: most polls write nothing.
    const state = recordState(next);
    if (!recordFits(state)) {
      throw new ProtocolError(
        'state-too-large',
        `the agent's state would take ${state.length} bytes, over the ${RECORD_BOUNDS.recordBytes} a record holds; report less (fewer packages or shorter texts)`,
        message.instanceUid,
      );
    }
  }
  return write;
}
