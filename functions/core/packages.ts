import { AgentCapabilities, PackageStatusEnum, PackageType } from '../gen/opamp/v1/opamp_pb.js';
import { boundedErrorMessage } from './record-bounds.js';
import type { PackageStatuses } from '../gen/opamp/v1/opamp_pb.js';
import { sha256, stableJson } from './canonical-hash.js';
import { agentHas } from './capabilities.js';
import { nextOffer, offerDue, offerState } from './offer-tracker.js';
import type { OfferRecord, ReportedOutcome, ResendPolicy } from './offer-tracker.js';
import { packageRetryDue } from './package-retry.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from './bucket-layout.js';
import { byKey, byName } from './compare.js';

export function packageNameOfFolder(folder: string): string {
  return folder === TOP_LEVEL_PACKAGE_FOLDER ? '' : folder;
}

export function packageFolderOfName(name: string): string {
  return name === '' ? TOP_LEVEL_PACKAGE_FOLDER : name;
}

/** One version of one package as the ingest recorded it. */
export interface PackageVersionMeta {
  /** The package name agents see ('' for the agent itself). */
  name: string;
  version: string;
  /** The object agents download. */
  objectKey: string;
  /** SHA-256 of the file content, hex. */
  sha256: string;
  size: number;
  /** The detached signature (`<file>.sig`), base64; absent when there is none. */
  signature?: string | undefined;
  /** Why this version cannot be offered (several files in its folder, ...). */
  error?: string | undefined;
}

/**
 * PackageAvailable.hash: identifies the package content, computed from its
 * name, version, type, content hash and signature only. Download URLs are
 * signed anew at every offer and must not change the hash (agents would
 * reinstall on every poll).
 */
export function packageHash(pkg: PackageVersionMeta): string {
  return sha256(
    stableJson({
      name: pkg.name,
      version: pkg.version,
      type: packageType(pkg.name),
      sha256: pkg.sha256,
      signature: pkg.signature ?? '',
    }),
  ).toString('base64');
}

/** PackagesAvailable.all_packages_hash over the whole set, in name order. */
export function allPackagesHash(set: readonly PackageVersionMeta[]): string {
  const entries = [...set].sort(byName).map((p) => ({ name: p.name, hash: packageHash(p) }));
  return sha256(stableJson(entries)).toString('base64');
}

export function packageType(name: string): PackageType {
  return name === '' ? PackageType.PackageType_TopLevel : PackageType.PackageType_Addon;
}

/** The package set an assignment asks for: package name to version. */
export type PackageSetSpec = Readonly<Record<string, string>>;

export interface ResolvedPackageSet {
  /** base64 all_packages_hash. */
  hash: string;
  packages: readonly PackageVersionMeta[];
}

/**
 * The package versions of a set, or the reasons it cannot be offered. Agents
 * remove every package a PackagesAvailable does not list, so a set with any
 * version missing or unusable is never offered in part.
 */
export function resolvePackageSet(spec: PackageSetSpec, catalog: ReadonlyMap<string, PackageVersionMeta>): { set: ResolvedPackageSet } | { errors: string[] } {
  const packages: PackageVersionMeta[] = [];
  const errors: string[] = [];
  for (const [name, version] of Object.entries(spec)) {
    const meta = catalog.get(packageKey(name, version));
    if (!meta) errors.push(`${displayName(name)} ${version} is not in the bucket`);
    else if (meta.error !== undefined) errors.push(`${displayName(name)} ${version}: ${meta.error}`);
    else packages.push(meta);
  }
  if (errors.length > 0) return { errors };
  return { set: { hash: allPackagesHash(packages), packages } };
}

export const packageKey = (name: string, version: string) => `${name}@${version}`;

function displayName(name: string): string {
  return name === '' ? `${TOP_LEVEL_PACKAGE_FOLDER} (the agent)` : name;
}

/** What the server last offered as the agent's package set. */
export type PackagesOffer = OfferRecord;

export interface PackagesPolicy extends ResendPolicy {
  /** How long a presigned download URL stays valid. */
  urlTtlSeconds: number;
}

export const DEFAULT_PACKAGES_POLICY: PackagesPolicy = { resendAfterMs: 5 * 60_000, maxAttempts: 3, urlTtlSeconds: 900 };

/**
 * Whether this reply should carry the package set. The agent reports the
 * all_packages_hash it last received (server_provided_all_packages_hash); the
 * Go client records it when it starts to process an offer, so a failed
 * install does not make it ask again: nothing is re-sent until the set
 * changes, or an unacknowledged offer's quiet period passes.
 */
export function shouldOfferPackages(input: {
  capabilities: bigint;
  reportedHash: string | undefined;
  offer: PackagesOffer | undefined;
  desired: ResolvedPackageSet | undefined;
  now: number;
  policy: PackagesPolicy;
  /** The agent's last package statuses: a download that failed for want of the file or storage is offered again. */
  statuses?: Readonly<Record<string, PackageStatusSummary>> | undefined;
}): boolean {
  const { desired } = input;
  if (!desired || !agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_AcceptsPackages)) return false;
  // A set the agent took is offered again only to retry a failed download.
  if (input.reportedHash === desired.hash) {
    return packageRetryDue({ desired, offer: input.offer, statuses: input.statuses, now: input.now, policy: input.policy });
  }
  return offerDue({
    desired: desired.hash,
    has: false,
    offer: input.offer,
    reports: agentHas(input.capabilities, AgentCapabilities.AgentCapabilities_ReportsPackageStatuses),
    now: input.now,
    policy: input.policy,
  });
}

export function recordPackagesOffer(previous: PackagesOffer | undefined, hash: string, now: number, seq: bigint): PackagesOffer {
  return nextOffer(previous, hash, now, seq);
}

/** One package as the agent last reported it, kept compact in the per-poll record. */
export interface PackageStatusSummary {
  hasVersion: string;
  offeredVersion: string;
  /** PackageStatusEnum name without its prefix: Installed, InstallPending, Installing, InstallFailed, Downloading. */
  status: string;
  error?: string;
  downloadPercent?: number;
}

export function summarizePackageStatuses(statuses: PackageStatuses): Record<string, PackageStatusSummary> {
  const out: Record<string, PackageStatusSummary> = {};
  // In name order: the same statuses must give the same record, whatever order they arrived in.
  for (const [name, s] of Object.entries(statuses.packages).sort(byKey)) {
    out[name] = {
      hasVersion: s.agentHasVersion,
      offeredVersion: s.serverOfferedVersion,
      status: (PackageStatusEnum[s.status] ?? String(s.status)).replace(/^PackageStatusEnum_/, ''),
      ...(s.errorMessage ? { error: boundedErrorMessage(s.errorMessage) } : {}),
      ...(s.downloadDetails ? { downloadPercent: s.downloadDetails.downloadPercent } : {}),
    };
  }
  return out;
}

/**
 * Where one agent stands with one package version it should have:
 * installed, installing (offered and in progress, including downloading and
 * pending), failed (InstallFailed for that version), or pending (not yet
 * offered, or offered without a report yet), or not-accepted (the agent does
 * not accept packages, so waiting would never end).
 */
export type PackageRolloutState = 'installed' | 'installing' | 'failed' | 'pending' | 'not-accepted';

export function packageRolloutState(capabilities: bigint, version: string, summary: PackageStatusSummary | undefined): PackageRolloutState {
  if (!agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsPackages)) return 'not-accepted';
  // The version stands in for the hash: the agent reports on package versions.
  const state = offerState({ desired: version, reported: reportedPackage(version, summary), offer: undefined });
  return state === 'applied' ? 'installed' : state === 'applying' ? 'installing' : state === 'failed' ? 'failed' : 'pending';
}

/** What the agent's report says of one version: installed, or being installed or failed as the version offered. */
function reportedPackage(version: string, summary: PackageStatusSummary | undefined): ReportedOutcome | undefined {
  if (!summary) return undefined;
  if (summary.hasVersion === version && summary.status === 'Installed') return { hash: version, outcome: 'applied' };
  // Installed with another version than the one offered: the offer is not taken yet.
  if (summary.offeredVersion !== version || summary.status === 'Installed') return undefined;
  return { hash: version, outcome: summary.status === 'InstallFailed' ? 'failed' : 'applying' };
}
