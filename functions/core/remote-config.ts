import { AgentCapabilities, RemoteConfigStatuses } from '../gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from './agent-record.js';
import { agentHas } from './capabilities.js';
import type { ConfigMeta } from './fleet.js';
import { nextOffer, offerDue, offerState, outcomeOf } from './offer-tracker.js';
import type { OfferRecord, OfferState, ResendPolicy } from './offer-tracker.js';
import type { ConfigTarget } from './targeting.js';

/**
 * What the server last offered an agent, and what became of it. This is what
 * keeps delivery from looping: a hash is offered again only after a quiet
 * period, a bounded number of times, and never after the agent rolled back
 * from it or reported it FAILED.
 */
export interface RemoteConfigOffer extends OfferRecord {
  name: string;
  /** The agent reported this hash (APPLYING, APPLIED or FAILED) after the offer. */
  acknowledged: boolean;
  /** The agent took the offer, then reported APPLIED with another hash: it went back. */
  rolledBackAt?: number;
  rolledBackTo?: string;
  rollbackMessage?: string;
}

export type RemoteConfigPolicy = ResendPolicy;

export const DEFAULT_REMOTE_CONFIG_POLICY: RemoteConfigPolicy = { resendAfterMs: 5 * 60_000, maxAttempts: 3 };

/** Updates the offer with a RemoteConfigStatus the agent just reported. */
export function noteRemoteConfigStatus(offer: RemoteConfigOffer | undefined, status: ReportedApplyStatus, now: number): RemoteConfigOffer | undefined {
  if (!offer || offer.rolledBackAt !== undefined) return offer;
  if (status.hash === offer.hash) return offer.acknowledged ? offer : { ...offer, acknowledged: true };
  if (offer.acknowledged && status.status === RemoteConfigStatuses.RemoteConfigStatuses_APPLIED) {
    return {
      ...offer,
      rolledBackAt: now,
      rolledBackTo: status.hash,
      rollbackMessage: status.errorMessage || 'the agent took the configuration, then reported APPLIED with another one',
    };
  }
  return offer;
}

export interface DeliveryInput {
  capabilities: bigint;
  reported: ReportedApplyStatus | undefined;
  offer: RemoteConfigOffer | undefined;
  target: ConfigTarget | undefined;
  now: number;
  policy: RemoteConfigPolicy;
  /** Configurations whose bodies cannot be served right now (changed under the metadata). */
  withheld?: ReadonlySet<string> | undefined;
}

/** The configuration to offer in this reply, if any. */
export function configToOffer(input: DeliveryInput): ConfigMeta | undefined {
  const { offer } = input;
  if (!agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) return undefined;
  const desired = input.target?.config;
  if (!desired || desired.files.length === 0 || input.withheld?.has(desired.hash)) return undefined;
  const due = offerDue({
    desired: desired.hash,
    // The agent has it when it reports the hash at all (applied, applying or failed).
    has: input.reported?.hash === desired.hash,
    offer,
    reports: agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig),
    abandoned: offer?.rolledBackAt !== undefined,
    now: input.now,
    policy: input.policy,
  });
  return due ? desired : undefined;
}

export function recordOffer(previous: RemoteConfigOffer | undefined, config: ConfigMeta, now: number, seq: bigint): RemoteConfigOffer {
  const again = previous?.hash === config.hash;
  return { ...nextOffer(previous, config.hash, now, seq), name: config.name, acknowledged: again ? previous.acknowledged : false };
}

/**
 * Where an agent stands with its desired configuration:
 * - `none`: no configuration targets it;
 * - `not-accepted`: one does, but the agent does not accept remote configuration, so it never will have it;
 * - `pending`: targeted, not yet offered;
 * - `offered`: offered, no report yet (or the agent does not report status);
 * - `applying`, `applied`, `failed`: as the agent reported for the desired hash;
 * - `rolled-back`: it took the configuration, then went back to another one;
 * - `not-taken`: offered the maximum number of times without the agent taking it.
 */
export type ConfigRolloutState = OfferState | 'not-accepted';

export function configRolloutState(
  capabilities: bigint,
  target: ConfigTarget | undefined,
  reported: ReportedApplyStatus | undefined,
  offer: RemoteConfigOffer | undefined,
  policy: RemoteConfigPolicy,
  now: number,
): ConfigRolloutState {
  const desired = target?.config;
  if (!desired) return 'none';
  if (!agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) return 'not-accepted';
  return offerState({
    desired: desired.hash,
    reported: reported && { hash: reported.hash, outcome: outcomeOf(reported.status, CONFIG_OUTCOMES) },
    offer,
    abandoned: offer?.rolledBackAt !== undefined,
    giveUp: agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig) ? { now, policy } : undefined,
  });
}

const CONFIG_OUTCOMES = { applied: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, failed: RemoteConfigStatuses.RemoteConfigStatuses_FAILED };
