import { desiredState } from '../core/desired-state.js';
import type { FleetState } from '../core/fleet.js';
import { packageNameOfFolder, packageRolloutState } from '../core/packages.js';
import type { PackageRolloutState } from '../core/packages.js';
import { configRolloutState } from '../core/remote-config.js';
import type { ConfigRolloutState, RemoteConfigPolicy } from '../core/remote-config.js';
import { everyAgent } from '../ports/agent-store.js';
import type { AgentStore } from '../ports/agent-store.js';

/* Where configurations and package versions stand over the agents they reach. */

export type RolloutBucket = 'applied' | 'applying' | 'failed' | 'pending';

export interface RolloutAgentView {
  instanceUid: string;
  state: ConfigRolloutState;
  via: string;
  reportedHash: string;
  errorMessage: string;
}

export interface RolloutView {
  config: string;
  hash: string | null;
  matched: number;
  applied: number;
  applying: number;
  failed: number;
  pending: number;
  /** Every agent that is not (yet) applied, with what it reported. */
  agents: RolloutAgentView[];
}

export interface PackageRolloutView {
  name: string;
  version: string;
  matched: number;
  installed: number;
  installing: number;
  failed: number;
  pending: number;
  /** Every agent that does not have it installed yet, with what it reported. */
  agents: Array<{ instanceUid: string; state: PackageRolloutState; status: string; error: string }>;
}

const BUCKET_OF_STATE: Record<ConfigRolloutState, RolloutBucket | undefined> = {
  none: undefined,
  pending: 'pending',
  offered: 'applying',
  applying: 'applying',
  applied: 'applied',
  failed: 'failed',
  'rolled-back': 'failed',
  'not-taken': 'failed',
};

/** Where one package version stands over every agent whose package set includes it. */
export async function packageRollout(fleet: FleetState, agents: AgentStore, folder: string, version: string): Promise<PackageRolloutView> {
  const name = packageNameOfFolder(folder);
  const view: PackageRolloutView = { name: folder, version, matched: 0, installed: 0, installing: 0, failed: 0, pending: 0, agents: [] };
  for await (const record of everyAgent(agents)) {
    if (desiredState(record, fleet).packages?.spec[name] !== version) continue;
    const summary = record.packages?.[name];
    const state = packageRolloutState(version, summary);
    view.matched++;
    view[state]++;
    if (state !== 'installed') {
      view.agents.push({ instanceUid: record.instanceUid, state, status: summary?.status ?? 'not reported', error: summary?.error ?? '' });
    }
  }
  return view;
}

/** Where the rollout of one configuration stands, over every agent it targets. */
export async function configRollout(fleet: FleetState, agents: AgentStore, configName: string, policy: RemoteConfigPolicy, now: number): Promise<RolloutView> {
  const config = fleet.configs.get(configName);
  const view: RolloutView = { config: configName, hash: config ? hex(config.hash) : null, matched: 0, applied: 0, applying: 0, failed: 0, pending: 0, agents: [] };
  for await (const record of everyAgent(agents)) {
    const target = desiredState(record, fleet).config;
    if (target?.configName !== configName) continue;
    const state = configRolloutState(record.capabilities, target, record.remoteConfigStatus, record.configOffer, policy, now);
    const bucket = BUCKET_OF_STATE[state];
    if (!bucket) continue;
    view.matched++;
    view[bucket]++;
    if (bucket !== 'applied') {
      view.agents.push({
        instanceUid: record.instanceUid,
        state,
        via: target.via,
        reportedHash: hex(record.remoteConfigStatus?.hash ?? ''),
        errorMessage: record.configOffer?.rollbackMessage && state === 'rolled-back'
          ? record.configOffer.rollbackMessage
          : record.remoteConfigStatus?.errorMessage ?? '',
      });
    }
  }
  return view;
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}
