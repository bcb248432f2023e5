import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PackageStatusEnum, PackageStatusesSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, description, fullReport, health } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { everythingStored } from '../support/store-scan.js';
import { runOpampctl } from '../support/opampctl.js';

const PACKAGE_CAPS = caps('AgentCapabilities_ReportsStatus', 'AgentCapabilities_AcceptsPackages', 'AgentCapabilities_ReportsPackageStatuses', 'AgentCapabilities_ReportsHeartbeat');
const RESEND_MS = 5 * 60_000;

describe('download URLs in agent text, and retried package downloads', () => {
  let backend: TestBackend;
  let scratch: string;

  beforeEach(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    scratch = mkdtempSync(join(tmpdir(), 'opamp-retry-'));
  });
  afterEach(async () => {
    await backend.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, [...args, '--json']);
  }
  async function assignPackage(version: string): Promise<void> {
    const file = join(scratch, `otelcol-${version}.tar.gz`);
    writeFileSync(file, `collector ${version}`);
    await ctl('package', 'upload', '_agent', version, file);
    await ctl('assign', 'default', '--package', `_agent=${version}`);
  }
  const agent = () =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) =>
        fullReport(uid, seq, {
          capabilities: PACKAGE_CAPS,
          agentDescription: description({ 'service.name': 'checkout' }),
          health: health(true),
          effectiveConfig: undefined,
          remoteConfigStatus: undefined,
          packageStatuses: create(PackageStatusesSchema, {}),
        }),
    });
  /** A failed install as the Go client reports it: the download URL, signature and all, in the error text. */
  function failed(reply: ServerToAgent | undefined, error: (url: string) => string) {
    const offered = reply!.packagesAvailable!;
    const pkg = offered.packages['']!;
    return create(PackageStatusesSchema, {
      serverProvidedAllPackagesHash: offered.allPackagesHash,
      packages: {
        '': {
          name: '',
          agentHasVersion: '',
          serverOfferedVersion: pkg.version,
          serverOfferedHash: pkg.hash,
          status: PackageStatusEnum.PackageStatusEnum_InstallFailed,
          errorMessage: error(pkg.file!.downloadUrl),
        },
      },
    });
  }
  const queryOf = (url: string) => new URL(url).search.slice(1);

  it('stores and shows no query string of the download URL an agent echoes in its error', async () => {
    await assignPackage('0.140.0');
    const a = agent();
    const offer = await a.sendFullReport();
    const url = offer.reply!.packagesAvailable!.packages['']!.file!.downloadUrl;
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: failed(offer.reply, (u) => `cannot download file from ${u}, HTTP response=404`) });

    const shown = await ctl('agent', a.uidText);
    const rollout = JSON.parse(await ctl('package', 'rollout', '_agent', '0.140.0'));
    const stored = await everythingStored(backend);

    expect(queryOf(url)).toMatch(/Signature/);
    const bare = url.split('?')[0]!;
    expect(rollout.agents[0].error).toBe(`cannot download file from ${bare}, HTTP response=404`);
    expect(shown).toContain(bare);
    for (const text of [shown, JSON.stringify(rollout), stored]) expect(text).not.toContain(queryOf(url));
  });

  it('offers a download that failed for want of storage again, with a fresh URL and a growing wait; a content mismatch never', async () => {
    await assignPackage('0.140.0');
    const a = agent();
    const offer = await a.sendFullReport();
    const firstUrl = offer.reply!.packagesAvailable!.packages['']!.file!.downloadUrl;
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: failed(offer.reply, (u) => `Get "${u}": dial tcp 10.0.0.1:443: i/o timeout`) });

    const early = await a.heartbeat(PACKAGE_CAPS);
    backend.clock.advance(RESEND_MS);
    const retry = await a.heartbeat(PACKAGE_CAPS);
    const retryUrl = retry.reply?.packagesAvailable?.packages['']?.file?.downloadUrl;
    // The agent fails again: the next retry waits twice as long.
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: failed(retry.reply, () => 'HTTP response=503') });
    backend.clock.advance(RESEND_MS);
    const tooSoon = await a.heartbeat(PACKAGE_CAPS);
    backend.clock.advance(RESEND_MS);
    const second = await a.heartbeat(PACKAGE_CAPS);
    // A mismatch is final until the package changes.
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: failed(second.reply, () => 'downloaded file hash mismatch') });
    backend.clock.advance(24 * 60 * 60_000);
    const afterMismatch = await a.heartbeat(PACKAGE_CAPS);

    expect(early.reply?.packagesAvailable).toBeUndefined();
    expect(retry.reply?.packagesAvailable?.allPackagesHash).toEqual(offer.reply!.packagesAvailable!.allPackagesHash);
    // Signed for this reply (the query of a URL is never kept, so it cannot be an old one).
    expect(queryOf(retryUrl!)).toMatch(/X-Amz-Signature=/);
    expect(new URL(retryUrl!).pathname).toBe(new URL(firstUrl).pathname);
    expect(tooSoon.reply?.packagesAvailable).toBeUndefined();
    expect(second.reply?.packagesAvailable).toBeDefined();
    expect(afterMismatch.reply?.packagesAvailable).toBeUndefined();
  });
});
