import { AgentCapabilities, ServerCapabilities } from '../gen/opamp/v1/opamp_pb.js';

/** True when every bit of `capability` is set in the agent's bitmask. */
export function agentHas(capabilities: bigint, capability: AgentCapabilities): boolean {
  const bit = BigInt(capability);
  return (capabilities & bit) === bit;
}

/** The agent capability bits the specification defines, by their short names. */
const AGENT_CAPABILITY_NAMES: ReadonlyArray<readonly [AgentCapabilities, string]> = Object.entries(AgentCapabilities)
  .filter((entry): entry is [string, AgentCapabilities] => typeof entry[1] === 'number' && entry[1] !== 0)
  .map(([name, value]) => [value, name.replace(/^AgentCapabilities_/, '')] as const);

/**
 * Decodes a capability bitmask to names, for people. Bits the specification
 * does not define (newer agents) are listed as hex so nothing is hidden.
 */
export function agentCapabilityNames(capabilities: bigint): string[] {
  const names: string[] = [];
  let known = 0n;
  for (const [value, name] of AGENT_CAPABILITY_NAMES) {
    known |= BigInt(value);
    if (agentHas(capabilities, value)) names.push(name);
  }
  const unknown = capabilities & ~known;
  if (unknown !== 0n) names.push(`0x${unknown.toString(16)}`);
  return names;
}

/** What this server can do, as announced in every successful reply. */
export interface ServerFeatures {
  remoteConfig: boolean;
  packages: boolean;
  connectionSettings: boolean;
  connectionSettingsRequests: boolean;
}

export const NO_EXTRA_FEATURES: ServerFeatures = {
  remoteConfig: false,
  packages: false,
  connectionSettings: false,
  connectionSettingsRequests: false,
};

export function serverCapabilities(features: ServerFeatures): bigint {
  // Status, effective config and package statuses are stored whatever else is enabled.
  let bits =
    BigInt(ServerCapabilities.ServerCapabilities_AcceptsStatus) |
    BigInt(ServerCapabilities.ServerCapabilities_AcceptsEffectiveConfig) |
    BigInt(ServerCapabilities.ServerCapabilities_AcceptsPackagesStatus);
  if (features.remoteConfig) bits |= BigInt(ServerCapabilities.ServerCapabilities_OffersRemoteConfig);
  if (features.packages) bits |= BigInt(ServerCapabilities.ServerCapabilities_OffersPackages);
  if (features.connectionSettings) bits |= BigInt(ServerCapabilities.ServerCapabilities_OffersConnectionSettings);
  if (features.connectionSettingsRequests) {
    bits |= BigInt(ServerCapabilities.ServerCapabilities_AcceptsConnectionSettingsRequest);
  }
  return bits;
}
