import type { PackageStatusSummary, PackagesOffer, PackagesPolicy, ResolvedPackageSet } from './packages.js';

/**
 * Why a package install failed, read from the agent's error text:
 * - `missing`: the file was not found (404, NoSuchKey) or its URL was refused
 *   (403: a presigned URL that expired before the agent got to it);
 * - `unavailable`: storage or the network failed (5xx, timeouts, resets);
 * - `integrity`: the downloaded content does not match its hash or signature;
 * - `other`: anything else (the install step itself failed).
 * Clients word their errors freely; these patterns cover the Go client's and
 * the usual HTTP and S3 wording.
 */
export type PackageFailureCause = 'missing' | 'unavailable' | 'integrity' | 'other';

const INTEGRITY = /hash|checksum|digest|signature|integrity|does not match|mismatch/i;
const MISSING = /\b(404|403)\b|not ?found|NoSuchKey|AccessDenied|Forbidden|expired/i;
const UNAVAILABLE =
  /\b(5\d\d)\b|unavailable|SlowDown|timed? ?out|timeout|deadline exceeded|connection (refused|reset)|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EOF|no such host|dial tcp|i\/o timeout|TLS handshake/i;

export function packageFailureCause(message: string | undefined): PackageFailureCause {
  const text = message ?? '';
  // Checked first: "hash mismatch after download from https://..." must not read as a network error.
  if (INTEGRITY.test(text)) return 'integrity';
  if (MISSING.test(text)) return 'missing';
  if (UNAVAILABLE.test(text)) return 'unavailable';
  return 'other';
}

/** The longest wait between two offers of the same set after download failures. */
export const MAX_RETRY_BACKOFF_MS = 6 * 60 * 60_000;

/** How long after an offer the same set is offered again, given how often it was offered already. */
export function retryBackoffMs(attempts: number, policy: PackagesPolicy): number {
  const doublings = Math.min(Math.max(attempts - 1, 0), 20);
  return Math.min(policy.resendAfterMs * 2 ** doublings, MAX_RETRY_BACKOFF_MS);
}

/**
 * Whether a package set the agent took, and failed to download, is offered
 * again. The agent keeps the set's hash as received even when a download
 * fails, so without this it would never be offered again. A set is retried
 * only when every failure in it was the file missing or storage being
 * unavailable (a new offer carries freshly signed URLs), after a backoff that
 * doubles with each offer; a content mismatch is not retried: the same bytes
 * would fail again, and a changed package is a new set anyway. A package that
 * is missing from the catalog keeps the set from resolving at all, so a retry
 * also waits for the file to be back.
 */
export function packageRetryDue(input: {
  desired: ResolvedPackageSet;
  offer: PackagesOffer | undefined;
  statuses: Readonly<Record<string, PackageStatusSummary>> | undefined;
  now: number;
  policy: PackagesPolicy;
}): boolean {
  const { desired, offer } = input;
  if (!offer || offer.hash !== desired.hash || !input.statuses) return false;
  const causes: PackageFailureCause[] = [];
  for (const pkg of desired.packages) {
    const status = input.statuses[pkg.name];
    if (status?.status === 'InstallFailed' && status.offeredVersion === pkg.version) causes.push(packageFailureCause(status.error));
  }
  if (causes.length === 0 || causes.some((c) => c === 'integrity' || c === 'other')) return false;
  return input.now - offer.offeredAt >= retryBackoffMs(offer.attempts, input.policy);
}
