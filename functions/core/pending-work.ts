import { AgentCapabilities } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from './agent-record.js';
import { agentHas } from './capabilities.js';
import { desiredState, offerablePackages } from './desired-state.js';
import type { DesiredState } from './desired-state.js';
import type { FleetState } from './fleet.js';
import { outOfAttempts } from './offer-tracker.js';
import type { PackagesPolicy } from './packages.js';
import { configRolloutState } from './remote-config.js';
import type { RemoteConfigPolicy } from './remote-config.js';

/** Package states in which the agent is still working on an offer. */
const IN_PROGRESS = new Set(['InstallPending', 'Installing', 'Downloading']);

/**
 * What the server is still waiting to deliver to this agent, or to hear back
 * about: a configuration or package set not yet acknowledged, a queued
 * restart or message. While anything is, the agent is asked to poll at the
 * pending interval. Offers the server gave up on (failed, rolled back, not
 * taken after the maximum attempts), offers to agents that never report on
 * them, and features the server has turned off do not count: nothing would
 * ever end the wait.
 */
export function pendingWork(record: AgentRecord, fleet: FleetState, policy: PendingPolicy, now: number): PendingWork | undefined {
  return pendingWorkFor(record, desiredState(record, fleet), policy, now);
}

export type PendingWork = 'command' | 'message' | 'config' | 'packages';

export interface PendingPolicy {
  features: { remoteConfig: boolean; packages: boolean };
  remoteConfig: RemoteConfigPolicy;
  packages: PackagesPolicy;
}

/** pendingWork with the agent's desired state already worked out (as a poll has it). */
export function pendingWorkFor(record: AgentRecord, desired: DesiredState, policy: PendingPolicy, now: number): PendingWork | undefined {
  const caps = record.capabilities;
  if (record.pendingCommand && now < record.pendingCommand.expiresAt && agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsRestartCommand)) {
    return 'command';
  }
  if (record.outbox?.some((m) => now < m.expiresAt && (record.customCapabilities ?? []).includes(m.capability))) return 'message';

  if (policy.features.remoteConfig && configPending(record, desired, policy.remoteConfig, now)) return 'config';
  if (policy.features.packages && packagesPending(record, desired, policy.packages)) return 'packages';
  return undefined;
}

function configPending(record: AgentRecord, desired: DesiredState, policy: RemoteConfigPolicy, now: number): boolean {
  const caps = record.capabilities;
  const config = configRolloutState(caps, desired.config, record.remoteConfigStatus, record.configOffer, policy, now);
  const reportsConfig = agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsRemoteConfig);
  return config === 'pending' || (reportsConfig && (config === 'offered' || config === 'applying'));
}

function packagesPending(record: AgentRecord, state: DesiredState, policy: PackagesPolicy): boolean {
  const caps = record.capabilities;
  if (!agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsPackages)) return false;
  const desired = offerablePackages(state);
  if (desired && record.serverProvidedAllPackagesHash !== desired.hash) {
    const offer = record.packagesOffer;
    const reports = agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsPackageStatuses);
    if (offer?.hash !== desired.hash || (reports && !outOfAttempts(offer, policy))) return true;
  }
  return Object.values(record.packages ?? {}).some((p) => IN_PROGRESS.has(p.status));
}
