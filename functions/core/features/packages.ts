import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, DownloadableFileSchema, PackageAvailableSchema, PackagesAvailableSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { agentHas } from '../capabilities.js';
import { offerablePackages } from '../desired-state.js';
import type { DesiredState } from '../desired-state.js';
import { packageHash, packageType, recordPackagesOffer, shouldOfferPackages } from '../packages.js';
import type { ResolvedPackageSet } from '../packages.js';
import type { FeatureOutcome, PollContext } from '../poll-types.js';

/** The package set a retried message's lost reply offered, if it is still the one to offer. */
export function reofferedPackages(stored: AgentRecord, desired: DesiredState): ResolvedPackageSet | undefined {
  const set = offerablePackages(desired);
  return set && set.hash === stored.packagesOffer?.hash ? set : undefined;
}

/** The package set to offer, recorded as offered; download URLs are signed by the caller. */
export function offerPackages({ input, record: next, desired: state }: PollContext): FeatureOutcome | undefined {
  const { options, now } = input;
  // Checked first so that agents that take no packages never resolve a set.
  if (!options.features.packages || !agentHas(next.capabilities, AgentCapabilities.AgentCapabilities_AcceptsPackages)) return undefined;
  const desired = offerablePackages(state);
  const offer = shouldOfferPackages({
    capabilities: next.capabilities,
    reportedHash: next.serverProvidedAllPackagesHash,
    statuses: next.packages,
    offer: next.packagesOffer,
    desired,
    now,
    policy: options.packages,
  });
  if (!offer || !desired) return undefined;
  return {
    reply: { packagesAvailable: packagesReply(desired) },
    changes: { packagesOffer: recordPackagesOffer(next.packagesOffer, desired.hash, now, input.message.sequenceNum) },
    events: ['packages-offered'],
    attachPackages: desired,
  };
}

/**
 * PackagesAvailable with every hash set and the download URLs left empty: they
 * are signed at poll time by the caller and take no part in any hash.
 */
export function packagesReply(set: ResolvedPackageSet): ServerToAgent['packagesAvailable'] {
  const packages: Record<string, ReturnType<typeof create<typeof PackageAvailableSchema>>> = {};
  for (const pkg of set.packages) {
    packages[pkg.name] = create(PackageAvailableSchema, {
      type: packageType(pkg.name),
      version: pkg.version,
      hash: new Uint8Array(Buffer.from(packageHash(pkg), 'base64')),
      file: create(DownloadableFileSchema, {
        contentHash: new Uint8Array(Buffer.from(pkg.sha256, 'hex')),
        ...(pkg.signature !== undefined ? { signature: new Uint8Array(Buffer.from(pkg.signature, 'base64')) } : {}),
      }),
    });
  }
  return create(PackagesAvailableSchema, { packages, allPackagesHash: new Uint8Array(Buffer.from(set.hash, 'base64')) });
}
