import { AgentCapabilities, RemoteConfigStatuses } from '../gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from './agent-record.js';
import { agentHas } from './capabilities.js';
import type { ConfigMeta } from './fleet.js';
import type { ConfigTarget } from './targeting.js';

/**
 * What the server last offered an agent, and what became of it. This is what
 * keeps delivery from looping: a hash is offered again only after a quiet
 * period, a bounded number of times, and never after the agent rolled back
 * from it or reported it FAILED.
 */
export interface RemoteConfigOffer {
  /** base64 config hash offered. */
  hash: string;
  name: string;
  offeredAt: number;
  /** Sequence number of the message whose reply carried the offer (to answer a retry the same way). */
  offeredSeq: bigint;
  /** How many replies carried this offer. */
  attempts: number;
  /** The agent reported this hash (APPLYING, APPLIED or FAILED) after the offer. */
  acknowledged: boolean;
  /** The agent took the offer, then reported APPLIED with another hash: it went back. */
  rolledBackAt?: number;
  rolledBackTo?: string;
  rollbackMessage?: string;
}

export interface RemoteConfigPolicy {
  /** An offer the agent has not reported on is repeated after this long (the reply may have been lost). */
  resendAfterMs: number;
  /** After this many offers of one hash without the agent taking it, the server stops offering it. */
  maxAttempts: number;
}

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
  const { offer, now, policy } = input;
  if (!agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) return undefined;
  const desired = input.target?.config;
  if (!desired || desired.files.length === 0 || input.withheld?.has(desired.hash)) return undefined;
  if (input.reported?.hash === desired.hash) return undefined; // the agent has it (applied, applying or failed)
  if (offer?.hash !== desired.hash) return desired;
  if (offer.rolledBackAt !== undefined || offer.attempts >= policy.maxAttempts) return undefined;
  // Without status reports the server cannot tell a lost reply from success: offer once.
  if (!agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig)) return undefined;
  return now - offer.offeredAt >= policy.resendAfterMs ? desired : undefined;
}

export function recordOffer(previous: RemoteConfigOffer | undefined, config: ConfigMeta, now: number, seq: bigint): RemoteConfigOffer {
  const again = previous?.hash === config.hash;
  return {
    hash: config.hash,
    name: config.name,
    offeredAt: now,
    offeredSeq: seq,
    attempts: again ? previous.attempts + 1 : 1,
    acknowledged: again ? previous.acknowledged : false,
  };
}

/**
 * Where an agent stands with its desired configuration:
 * - `none`: no configuration targets it (or it does not accept remote config);
 * - `pending`: targeted, not yet offered;
 * - `offered`: offered, no report yet (or the agent does not report status);
 * - `applying`, `applied`, `failed`: as the agent reported for the desired hash;
 * - `rolled-back`: it took the configuration, then went back to another one;
 * - `not-taken`: offered the maximum number of times without the agent taking it.
 */
export type ConfigRolloutState = 'none' | 'pending' | 'offered' | 'applying' | 'applied' | 'failed' | 'rolled-back' | 'not-taken';

export function configRolloutState(
  capabilities: bigint,
  target: ConfigTarget | undefined,
  reported: ReportedApplyStatus | undefined,
  offer: RemoteConfigOffer | undefined,
  policy: RemoteConfigPolicy,
  now: number,
): ConfigRolloutState {
  const desired = target?.config;
  if (!desired || !agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) return 'none';
  if (reported?.hash === desired.hash) {
    switch (reported.status) {
      case RemoteConfigStatuses.RemoteConfigStatuses_APPLIED:
        return 'applied';
      case RemoteConfigStatuses.RemoteConfigStatuses_FAILED:
        return 'failed';
      default:
        return 'applying';
    }
  }
  if (offer?.hash !== desired.hash) return 'pending';
  if (offer.rolledBackAt !== undefined) return 'rolled-back';
  const exhausted = offer.attempts >= policy.maxAttempts && now - offer.offeredAt >= policy.resendAfterMs;
  if (exhausted && agentHas(capabilities, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig)) return 'not-taken';
  return 'offered';
}
