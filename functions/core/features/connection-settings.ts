import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import {
  assumeApplied,
  awaitedInterval,
  desiredSettings,
  NO_CONNECTION_CONTEXT,
  recordSettingsOffer,
  reportsSettingsStatus,
  settingsOffers,
  settingsToOffer,
  takesConnectionSettings,
} from '../connection-settings.js';
import type { DesiredSettings } from '../connection-settings.js';
import type { DesiredState } from '../desired-state.js';
import { pendingWorkFor } from '../pending-work.js';
import type { FeatureOutcome, PollContext, PollEvent, PollInput, RecordChanges } from '../poll-types.js';

/**
 * Records which token the agent authenticated with and a certificate signed
 * for it in this message. An agent that restarted and does not report its
 * connection settings status may have lost what it was sent: it is sent again.
 */
export function noteCredentials({ input, record: next, verdict }: PollContext): FeatureOutcome {
  const changes: RecordChanges = {};
  const events: PollEvent[] = [];
  const tokenName = input.connection?.presented?.tokenName;
  if (tokenName !== undefined && tokenName !== next.tokenName) changes.tokenName = tokenName;
  const issued = input.issuedCertificate;
  if (issued && issued.fingerprint !== next.issuedCertificate?.fingerprint) {
    changes.issuedCertificate = issued;
    events.push('certificate-issued');
  }
  if (verdict === 'reset' && !reportsSettingsStatus(next.capabilities)) {
    changes.settingsApplied = undefined;
    changes.settingsOffer = undefined;
  }
  return { changes, events };
}

/**
 * The connection settings the agent should have now, the poll interval
 * included: the pending interval while work is pending for the agent; else
 * the interval of an offer it has not answered yet, while it has not; else
 * the idle interval. A settings change itself needs no faster polling: it
 * travels in the reply to the poll that finds it.
 */
function currentSettings(record: AgentRecord, input: PollInput, state: DesiredState): DesiredSettings {
  const { options, now } = input;
  const base = desiredSettings({
    capabilities: record.capabilities,
    spec: state.settings?.spec,
    issued: record.issuedCertificate,
    context: input.connection ?? NO_CONNECTION_CONTEXT,
    heartbeat: options.settings.heartbeat,
  });
  if (pendingWorkFor(record, state, options, now) !== undefined) return base.withHeartbeat(true);
  const awaited = awaitedInterval({
    capabilities: record.capabilities,
    baseHash: base.baseHash,
    reported: record.connectionSettingsStatus,
    offer: record.settingsOffer,
    applied: record.settingsApplied,
    now,
    policy: options.settings,
  });
  return base.withHeartbeat(false, awaited);
}

/** Connection settings the agent lacks, recorded as offered. Decided last: the poll interval depends on what else is pending. */
export function offerSettings({ input, record: next, desired: state }: PollContext): FeatureOutcome | undefined {
  const { options, now } = input;
  if (!options.features.connectionSettings) return undefined;
  if (!takesConnectionSettings(next.capabilities)) return { changes: { settingsProblems: undefined } };
  const desired = currentSettings(next, input, state);
  if (desired.deferred) return undefined;
  const changes: RecordChanges = { settingsProblems: desired.problems.length > 0 ? desired.problems : undefined };
  const send = settingsToOffer({
    capabilities: next.capabilities,
    desired,
    reported: next.connectionSettingsStatus,
    offer: next.settingsOffer,
    applied: next.settingsApplied,
    now,
    policy: options.settings,
  });
  if (!send) return { changes };
  const offer = recordSettingsOffer(next.settingsOffer, desired, send, now, input.message.sequenceNum);
  changes.settingsOffer = offer;
  changes.heldCertificates = desired.certificates.length > 0 ? desired.certificates : undefined;
  if (!reportsSettingsStatus(next.capabilities)) changes.settingsApplied = assumeApplied(offer, now);
  if (send.includes('opamp') && desired.heartbeatSeconds !== undefined) changes.heartbeatSeconds = desired.heartbeatSeconds;
  return { reply: { connectionSettings: settingsOffers(desired, send) }, changes, events: ['settings-offered'] };
}

/** The settings offer a retried message's lost reply carried, if it is still what the agent should get. */
export function reofferedSettings(stored: AgentRecord, input: PollInput, state: DesiredState): ServerToAgent['connectionSettings'] {
  const offer = stored.settingsOffer;
  if (!offer || !input.options.features.connectionSettings) return undefined;
  const desired = currentSettings(stored, input, state);
  return desired.hash === offer.hash ? settingsOffers(desired, offer.sent) : undefined;
}
