import { createHash } from 'node:crypto';
import { AgentCapabilities, RemoteConfigStatuses } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from '../../../functions/core/agent-record.js';
import { configHash } from '../../../functions/core/config-hash.js';
import type { ConfigAssignment, ConfigFileMeta, ConfigMeta, FleetState } from '../../../functions/core/fleet.js';
import type { RemoteConfigOffer, RemoteConfigPolicy } from '../../../functions/core/remote-config.js';
import { parseSelector } from '../../../functions/core/selector.js';
import type { ConfigTarget } from '../../../functions/core/targeting.js';
import { COLLECTOR_CAPS } from '../../support/messages.js';
import { MINUTE, T0 } from './fixtures.js';

/**
 * Builders for the remote-configuration tests: configurations, assignments
 * and fleet states written as data, so that each test states what it needs.
 */

export const POLICY: RemoteConfigPolicy = { resendAfterMs: 5 * MINUTE, maxAttempts: 3 };

export const ACCEPTS = BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig);
export const REPORTS = BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig);
/** A Collector under the supervisor: accepts and reports remote config. */
export const FULL_CAPS = COLLECTOR_CAPS;
/** Accepts remote configuration but never reports what became of it. */
export const ACCEPTS_ONLY = BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus) | ACCEPTS;
/** Reports status (and even remote config status) but accepts none. */
export const NO_ACCEPT = COLLECTOR_CAPS & ~ACCEPTS;

export const APPLIED = RemoteConfigStatuses.RemoteConfigStatuses_APPLIED;
export const APPLYING = RemoteConfigStatuses.RemoteConfigStatuses_APPLYING;
export const FAILED = RemoteConfigStatuses.RemoteConfigStatuses_FAILED;

export function hexSha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One file's metadata; the content hash is that of `content`. */
export function file(configName: string, fileName: string, content = `${fileName} of ${configName}`, contentType = 'text/yaml'): ConfigFileMeta {
  return {
    fileName,
    objectKey: `configs/${configName}/${fileName}`,
    sha256: hexSha(content),
    size: Buffer.byteLength(content),
    contentType,
  };
}

/** A configuration with the given files (by default one file whose content names the configuration). */
export function config(name: string, files: ConfigFileMeta[] = [file(name, 'collector.yaml')]): ConfigMeta {
  return { name, hash: configHash(files), files };
}

export function selectorAssignment(name: string, configName: string, selector: string, priority = 0): ConfigAssignment {
  return { name, config: configName, selector: parseSelector(selector), priority };
}

export function uidAssignment(name: string, configName: string, instanceUid: string, priority = 0): ConfigAssignment {
  return { name, config: configName, instanceUid, priority };
}

export function fleet(configs: ConfigMeta[], assignments: ConfigAssignment[] = [], generation = '1'): FleetState {
  return { generation, configs: new Map(configs.map((c) => [c.name, c])), assignments, packages: new Map(), settings: new Map(), certificates: new Map(), rollouts: new Map() };
}

export function target(desired: ConfigMeta | undefined, via = desired?.name ?? 'default'): ConfigTarget {
  return { configName: desired?.name ?? 'missing', via, config: desired };
}

export function reported(hash: string, status: number, errorMessage = ''): ReportedApplyStatus {
  return { hash, status, errorMessage };
}

/** An offer of `offered` made at `offeredAt`, `attempts` times, not yet reported on unless said so. */
export function offerOf(offered: ConfigMeta, overrides: Partial<RemoteConfigOffer> = {}): RemoteConfigOffer {
  return { hash: offered.hash, name: offered.name, offeredAt: T0, offeredSeq: 1n, attempts: 1, acknowledged: false, ...overrides };
}
