import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, ConnectionSettingsOffersSchema, ConnectionSettingsStatuses } from '../gen/opamp/v1/opamp_pb.js';
import type { ConnectionSettingsOffers } from '../gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from './agent-record.js';
import { agentHas } from './capabilities.js';
import type { DesiredSettings, PartKey, SettingsPolicy } from './connection-settings.js';
import { exhausted, nextOffer, offerDue, offerState, outcomeOf } from './offer-tracker.js';
import type { OfferRecord, OfferState } from './offer-tracker.js';

/*
 * Where an agent stands with the connection settings it should have: what
 * was offered, what it reported, and when an offer is made or repeated.
 */

/** The ConnectionSettingsOffers carrying the given parts, with the hash over all of them. */
export function settingsOffers(desired: DesiredSettings, send: readonly PartKey[]): ConnectionSettingsOffers {
  const offers = create(ConnectionSettingsOffersSchema, { hash: new Uint8Array(Buffer.from(desired.hash, 'base64')) });
  for (const part of desired.parts) {
    if (!send.includes(part.key)) continue;
    const built = part.build();
    if (built.kind === 'opamp') offers.opamp = built.value;
    else if (built.kind === 'telemetry') offers[built.field] = built.value;
    else offers.otherConnections[built.name] = built.value;
  }
  return offers;
}

/** What the server last offered, by part. */
export interface SettingsOffer extends OfferRecord {
  baseHash: string;
  /** Every part the agent should have had after this offer (not only those sent). */
  parts: Record<PartKey, string>;
  heartbeatSeconds?: number | undefined;
  /** The parts this offer carried. */
  sent: PartKey[];
}

/** The settings the agent is known (or, when it does not report, assumed) to have. */
export interface AppliedSettings {
  hash: string;
  baseHash: string;
  parts: Record<PartKey, string>;
  heartbeatSeconds?: number | undefined;
  at: number;
  /** The agent does not report: this is what it was sent. */
  assumed: boolean;
}

/** The capabilities that let an agent take any part of connection settings. */
const SETTINGS_CAPABILITIES = [
  AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings,
  AgentCapabilities.AgentCapabilities_ReportsOwnMetrics,
  AgentCapabilities.AgentCapabilities_ReportsOwnTraces,
  AgentCapabilities.AgentCapabilities_ReportsOwnLogs,
  AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings,
].reduce((mask, capability) => mask | BigInt(capability), 0n);

/** Whether the agent can take any connection settings at all (most heartbeats then skip the work). */
export function takesConnectionSettings(capabilities: bigint): boolean {
  return (capabilities & SETTINGS_CAPABILITIES) !== 0n;
}

export function reportsSettingsStatus(capabilities: bigint): boolean {
  return agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsConnectionSettingsStatus);
}

/** The applied settings after the agent reported a ConnectionSettingsStatus. */
export function noteSettingsStatus(offer: SettingsOffer | undefined, applied: AppliedSettings | undefined, status: ReportedApplyStatus, now: number): AppliedSettings | undefined {
  if (status.status !== ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED) return applied;
  if (!offer || offer.hash !== status.hash || (applied?.hash === offer.hash && !applied.assumed)) return applied;
  return { hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: offer.heartbeatSeconds, at: now, assumed: false };
}

export interface SettingsProgress {
  capabilities: bigint;
  baseHash: string;
  reported: ReportedApplyStatus | undefined;
  offer: SettingsOffer | undefined;
  applied: AppliedSettings | undefined;
  now: number;
  policy: SettingsPolicy;
}

/**
 * The interval of an offer of these settings that still waits for the
 * agent's report: while it waits, the interval is not changed (a new interval
 * would be a new offer, and the agent has not answered this one yet). Only
 * agents that report their status are waited for, and not beyond the offer's
 * last attempt.
 */
export function awaitedInterval(args: SettingsProgress): number | undefined {
  const { offer } = args;
  if (!offer || offer.baseHash !== args.baseHash || !reportsSettingsStatus(args.capabilities)) return undefined;
  if (args.applied?.hash === offer.hash || args.reported?.hash === offer.hash || exhausted(offer, args.now, args.policy)) return undefined;
  return offer.heartbeatSeconds;
}

/**
 * The parts this reply should carry, if any. An agent that reports its status
 * is offered until it reports the desired hash (applied, applying or failed:
 * a failed hash is not offered again), repeated after a quiet period a
 * bounded number of times. An agent that does not report is offered each
 * hash once (again after it restarts; see forgetAssumed). Only parts that
 * differ from what the agent has are sent: unset parts mean "keep yours".
 */
export function settingsToOffer(args: {
  capabilities: bigint;
  desired: DesiredSettings;
  reported: ReportedApplyStatus | undefined;
  offer: SettingsOffer | undefined;
  applied: AppliedSettings | undefined;
  now: number;
  policy: SettingsPolicy;
}): PartKey[] | undefined {
  const { desired, applied } = args;
  if (desired.parts.length === 0) return undefined;
  const reporting = reportsSettingsStatus(args.capabilities);
  const has = reporting ? args.reported?.hash === desired.hash : applied?.hash === desired.hash;
  if (!offerDue({ desired: desired.hash, has, offer: args.offer, reports: reporting, now: args.now, policy: args.policy })) return undefined;
  const changed = desired.parts.filter((p) => applied?.parts[p.key] !== p.hash).map((p) => p.key);
  // Nothing differs part by part (a part was dropped): send everything, so the new hash arrives with content.
  return changed.length > 0 ? changed : desired.parts.map((p) => p.key);
}

export function recordSettingsOffer(previous: SettingsOffer | undefined, desired: DesiredSettings, sent: PartKey[], now: number, seq: bigint): SettingsOffer {
  return {
    ...nextOffer(previous, desired.hash, now, seq),
    baseHash: desired.baseHash,
    parts: Object.fromEntries(desired.parts.map((p) => [p.key, p.hash])),
    ...(desired.heartbeatSeconds !== undefined ? { heartbeatSeconds: desired.heartbeatSeconds } : {}),
    sent,
  };
}

export function assumeApplied(offer: SettingsOffer, now: number): AppliedSettings {
  return { hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: offer.heartbeatSeconds, at: now, assumed: true };
}

/**
 * Where an agent stands with its connection settings:
 * - `none`: nothing to offer it;
 * - `pending`: something to offer, not offered yet (or withheld: see problems);
 * - `offered`: offered, no report yet (or the agent does not report);
 * - `applying`, `applied`, `failed`: as the agent reported for the last offer.
 */
export type SettingsRolloutState = Exclude<OfferState, 'rolled-back' | 'not-taken'>;

export function settingsRolloutState(args: { targeted: boolean; reported: ReportedApplyStatus | undefined; offer: SettingsOffer | undefined }): SettingsRolloutState {
  const { offer, reported } = args;
  if (!offer) return args.targeted ? 'pending' : 'none';
  // The last offer stands in for the desired settings (they are only known at poll time); nothing is abandoned or given up here.
  return offerState({ desired: offer.hash, reported: reported && { hash: reported.hash, outcome: outcomeOf(reported.status, SETTINGS_OUTCOMES) }, offer }) as SettingsRolloutState;
}

const SETTINGS_OUTCOMES = {
  applied: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED,
  failed: ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED,
};
