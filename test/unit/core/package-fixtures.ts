import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, PackageStatusEnum, PackageStatusesSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { PackageStatuses } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ConfigAssignment, FleetState } from '../../../functions/core/fleet.js';
import type { PackageSetSpec, PackageVersionMeta, PackagesPolicy } from '../../../functions/core/packages.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { MINUTE } from './fixtures.js';

/**
 * Builders for the package, command, message and duplicate-uid tests:
 * package versions and fleets written as data. Hashes are computed here with
 * node:crypto directly, not with the code under test.
 */

export const bit = (c: AgentCapabilities) => BigInt(c);
export const A = AgentCapabilities;

export const ACCEPTS_PACKAGES = bit(A.AgentCapabilities_AcceptsPackages);
export const REPORTS_PACKAGE_STATUSES = bit(A.AgentCapabilities_ReportsPackageStatuses);
export const ACCEPTS_RESTART = bit(A.AgentCapabilities_AcceptsRestartCommand);
export const REPORTS_COMPONENTS = bit(A.AgentCapabilities_ReportsAvailableComponents);

/** A supervisor-like agent that takes packages and reports what became of them. */
export const PKG_CAPS = bit(A.AgentCapabilities_ReportsStatus) | bit(A.AgentCapabilities_ReportsHeartbeat) | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES;

export const PACKAGES_POLICY: PackagesPolicy = { resendAfterMs: 5 * MINUTE, maxAttempts: 3, urlTtlSeconds: 600 };

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** One ingested package version: its content is `content` (by default naming it), signed when `signature` is given. */
export function pkg(name: string, version: string, options: { content?: string; signature?: string; error?: string; file?: string } = {}): PackageVersionMeta {
  const content = options.content ?? `${name || 'agent'} ${version}`;
  const folder = name === '' ? '_agent' : name;
  return {
    name,
    version,
    objectKey: `packages/${folder}/${version}/${options.file ?? `${folder}-${version}.tar.gz`}`,
    sha256: sha256Hex(content),
    size: Buffer.byteLength(content),
    ...(options.signature !== undefined ? { signature: Buffer.from(options.signature).toString('base64') } : {}),
    ...(options.error !== undefined ? { error: options.error } : {}),
  };
}

export function catalog(...versions: PackageVersionMeta[]): Map<string, PackageVersionMeta> {
  return new Map(versions.map((p) => [`${p.name}@${p.version}`, p]));
}

export function packagesAssignment(name: string, packages: PackageSetSpec, target: { selector?: string; instanceUid?: string; priority?: number; config?: string } = {}): ConfigAssignment {
  return {
    name,
    packages,
    priority: target.priority ?? 0,
    ...(target.config !== undefined ? { config: target.config } : {}),
    ...(target.selector !== undefined ? { selector: parseSelector(target.selector) } : {}),
    ...(target.instanceUid !== undefined ? { instanceUid: target.instanceUid } : {}),
  };
}

export function packageFleet(versions: PackageVersionMeta[], assignments: ConfigAssignment[], generation = '1'): FleetState {
  return { generation, configs: new Map(), assignments, packages: catalog(...versions), settings: new Map(), certificates: new Map(), rollouts: new Map() };
}

export interface StatusOf {
  has: string;
  offered?: string;
  status?: PackageStatusEnum;
  error?: string;
  downloadPercent?: number;
}

/** PackageStatuses as an agent reports them, acknowledging `allHash` (base64, as the server stores it). */
export function statusesReport(allHash: string, packages: Record<string, StatusOf> = {}): PackageStatuses {
  const map: Record<string, object> = {};
  for (const [name, s] of Object.entries(packages)) {
    map[name] = {
      name,
      agentHasVersion: s.has,
      serverOfferedVersion: s.offered ?? '',
      status: s.status ?? PackageStatusEnum.PackageStatusEnum_Installed,
      errorMessage: s.error ?? '',
      ...(s.downloadPercent !== undefined ? { downloadDetails: { downloadPercent: s.downloadPercent } } : {}),
    };
  }
  return create(PackageStatusesSchema, { serverProvidedAllPackagesHash: new Uint8Array(Buffer.from(allHash, 'base64')), packages: map });
}
