import { describe, expect, it } from 'vitest';
import { AgentCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { MAX_RETRY_BACKOFF_MS, packageFailureCause, retryBackoffMs } from '../../../functions/core/package-retry.js';
import { DEFAULT_PACKAGES_POLICY, allPackagesHash, shouldOfferPackages } from '../../../functions/core/packages.js';
import type { PackageStatusSummary, PackageVersionMeta } from '../../../functions/core/packages.js';

const CAPS = BigInt(AgentCapabilities.AgentCapabilities_AcceptsPackages | AgentCapabilities.AgentCapabilities_ReportsPackageStatuses);
const T0 = 1_000_000_000;
const pkg: PackageVersionMeta = { name: '', version: '1.0.0', objectKey: 'packages/_agent/1.0.0/a.tgz', sha256: 'aa'.repeat(32), size: 10 };
const desired = { hash: allPackagesHash([pkg]), packages: [pkg] };
const policy = DEFAULT_PACKAGES_POLICY;

function failedWith(error: string, version = '1.0.0'): Record<string, PackageStatusSummary> {
  return { '': { hasVersion: '', offeredVersion: version, status: 'InstallFailed', error } };
}
function due(statuses: Record<string, PackageStatusSummary> | undefined, sinceOffer: number, attempts = 1): boolean {
  return shouldOfferPackages({
    capabilities: CAPS,
    reportedHash: desired.hash,
    offer: { hash: desired.hash, offeredAt: T0, offeredSeq: 1n, attempts },
    desired,
    now: T0 + sinceOffer,
    policy,
    statuses,
  });
}

describe('package download failures', () => {
  it.each([
    ['cannot download file from https://b/p, HTTP response=404', 'missing'],
    ['NoSuchKey: The specified key does not exist', 'missing'],
    ['HTTP response=403 (Request has expired)', 'missing'],
    ['HTTP response=503', 'unavailable'],
    ['Get "https://b/p": dial tcp 10.0.0.1:443: i/o timeout', 'unavailable'],
    ['read tcp: connection reset by peer', 'unavailable'],
    ['downloaded file hash mismatch', 'integrity'],
    ['signature verification failed', 'integrity'],
    ['installer exited with code 2', 'other'],
  ])('"%s" is %s', (message, cause) => {
    expect(packageFailureCause(message)).toBe(cause);
  });

  it('offers a set the agent took again after a missing-file or storage failure, once the backoff passed', () => {
    expect(due(failedWith('HTTP response=404'), policy.resendAfterMs - 1)).toBe(false);
    expect(due(failedWith('HTTP response=404'), policy.resendAfterMs)).toBe(true);
    expect(due(failedWith('i/o timeout'), policy.resendAfterMs)).toBe(true);
  });

  it('waits twice as long after each offer, up to a ceiling', () => {
    expect(retryBackoffMs(2, policy)).toBe(2 * policy.resendAfterMs);
    expect(due(failedWith('HTTP response=503'), 2 * policy.resendAfterMs - 1, 2)).toBe(false);
    expect(due(failedWith('HTTP response=503'), 2 * policy.resendAfterMs, 2)).toBe(true);
    expect(retryBackoffMs(50, policy)).toBe(MAX_RETRY_BACKOFF_MS);
  });

  it("never retries a content mismatch, an unexplained failure, another version's failure, or a set without failures", () => {
    const later = 7 * 24 * 60 * 60_000;
    expect(due(failedWith('hash mismatch'), later)).toBe(false);
    expect(due(failedWith('installer crashed'), later)).toBe(false);
    expect(due(failedWith('HTTP response=404', '0.9.0'), later)).toBe(false);
    expect(due({ '': { hasVersion: '1.0.0', offeredVersion: '1.0.0', status: 'Installed' } }, later)).toBe(false);
    expect(due(undefined, later)).toBe(false);
  });
});
