import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomCapabilitiesSchema, PackageStatusEnum, PackageStatusesSchema, PackageType, ServerToAgentFlags } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, description, fullReport, health } from '../support/messages.js';
import { hasFlag, ScriptedAgent } from '../support/scripted-agent.js';
import { main } from '../../cli/opampctl.js';
import { runOpampctl } from '../support/opampctl.js';

const PACKAGE_CAPS = caps(
  'AgentCapabilities_ReportsStatus',
  'AgentCapabilities_AcceptsPackages',
  'AgentCapabilities_ReportsPackageStatuses',
  'AgentCapabilities_AcceptsRestartCommand',
  'AgentCapabilities_ReportsHeartbeat',
  'AgentCapabilities_ReportsAvailableComponents',
);

describe('packages, restarts, custom messages, components and duplicate uids', () => {
  let backend: TestBackend;
  let scratch: string;

  beforeEach(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    scratch = mkdtempSync(join(tmpdir(), 'opamp-mgmt-'));
  });
  afterEach(async () => {
    await backend.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, [...args, '--json']);
  }
  const agent = (service = 'checkout', capabilities = PACKAGE_CAPS) =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) =>
        fullReport(uid, seq, {
          capabilities,
          agentDescription: description({ 'service.name': service }),
          health: health(true),
          effectiveConfig: undefined,
          remoteConfigStatus: undefined,
          packageStatuses: create(PackageStatusesSchema, {}),
        }),
    });
  function packageStatus(reply: ServerToAgent | undefined, status: PackageStatusEnum, hasVersion: string, error = '') {
    const offered = reply!.packagesAvailable!;
    const pkg = offered.packages['']!;
    return create(PackageStatusesSchema, {
      serverProvidedAllPackagesHash: offered.allPackagesHash,
      packages: {
        '': {
          name: '',
          agentHasVersion: hasVersion,
          serverOfferedVersion: pkg.version,
          serverOfferedHash: pkg.hash,
          status,
          errorMessage: error,
        },
      },
    });
  }
  async function uploadPackage(version: string, content: string, signature?: string): Promise<string> {
    const file = join(scratch, `otelcol-${version}.tar.gz`);
    writeFileSync(file, content);
    const args = ['package', 'upload', '_agent', version, file];
    if (signature) {
      writeFileSync(`${file}.sig`, signature);
      args.push('--signature', `${file}.sig`);
    }
    await ctl(...args);
    return createHash('sha256').update(content).digest('hex');
  }

  it('offers the assigned package with a working presigned URL, stops once installed, and does not loop on a failure', async () => {
    const sha = await uploadPackage('0.140.0', 'collector binary 0.140.0', 'signature-bytes');
    await ctl('assign', 'default', '--package', '_agent=0.140.0');
    const a = agent();

    const offer = await a.sendFullReport();
    const pkg = offer.reply?.packagesAvailable?.packages[''];
    const download = await fetch(pkg!.file!.downloadUrl);
    const body = Buffer.from(await download.arrayBuffer());
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: packageStatus(offer.reply, PackageStatusEnum.PackageStatusEnum_Installed, '0.140.0') });
    const later = await a.heartbeat(PACKAGE_CAPS);
    const rollout = JSON.parse(await ctl('package', 'rollout', '_agent', '0.140.0'));

    expect(pkg).toMatchObject({ type: PackageType.PackageType_TopLevel, version: '0.140.0' });
    expect(Buffer.from(pkg!.file!.contentHash).toString('hex')).toBe(sha);
    expect(Buffer.from(pkg!.file!.signature).toString()).toBe('signature-bytes');
    expect(offer.reply?.packagesAvailable?.allPackagesHash).toHaveLength(32);
    expect(download.status).toBe(200);
    expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
    expect(later.reply?.packagesAvailable).toBeUndefined();
    expect(rollout).toMatchObject({ matched: 1, installed: 1, failed: 0 });

    // A new version that fails to install is not offered again and again.
    await uploadPackage('0.141.0', 'collector binary 0.141.0');
    await ctl('assign', 'default', '--package', '_agent=0.141.0');
    const upgrade = await a.heartbeat(PACKAGE_CAPS);
    await a.send({ capabilities: PACKAGE_CAPS, packageStatuses: packageStatus(upgrade.reply, PackageStatusEnum.PackageStatusEnum_InstallFailed, '0.140.0', 'checksum mismatch') });
    backend.clock.advance(60 * 60_000);
    const afterFailure = [await a.heartbeat(PACKAGE_CAPS), await a.heartbeat(PACKAGE_CAPS)];
    const failed = JSON.parse(await ctl('package', 'rollout', '_agent', '0.141.0'));

    expect(upgrade.reply?.packagesAvailable?.packages['']?.version).toBe('0.141.0');
    for (const r of afterFailure) expect(r.reply?.packagesAvailable).toBeUndefined();
    expect(failed).toMatchObject({ matched: 1, failed: 1 });
    expect(failed.agents[0].error).toBe('checksum mismatch');

    // Downgrading is assigning the older version.
    await ctl('assign', 'default', '--package', '_agent=0.140.0');
    const downgrade = await a.heartbeat(PACKAGE_CAPS);
    expect(downgrade.reply?.packagesAvailable?.packages['']?.version).toBe('0.140.0');
  });

  it('delivers a restart once, alone, and only to agents that accept it', async () => {
    const capable = agent('checkout');
    const incapable = agent('checkout', caps('AgentCapabilities_ReportsStatus'));
    await capable.sendFullReport();
    await incapable.sendFullReport();

    const refused = await main(['restart', incapable.uidText, '--api', backend.url], () => {}).catch((e: Error) => e);
    const queued = JSON.parse(await ctl('restart', capable.uidText));
    const first = await capable.heartbeat(PACKAGE_CAPS);
    const second = await capable.heartbeat(PACKAGE_CAPS);
    const view = (await (await fetch(`${backend.url}/api/v1/agents/${capable.uidText}`)).json()) as any;

    expect((refused as Error).message).toMatch(/409 .*does not accept restart commands/);
    expect(queued.id).toBeTruthy();
    expect(first.reply?.command).toBeDefined();
    expect(first.reply?.flags).toBe(0n);
    expect(first.reply?.remoteConfig).toBeUndefined();
    expect(first.reply?.packagesAvailable).toBeUndefined();
    expect(second.reply?.command).toBeUndefined();
    expect(view.commands.last).toMatchObject({ type: 'restart', id: queued.id });
    expect(view.commands.last.deliveredAt).toBeTruthy();
    expect(view.commands.pending).toBeNull();
  });

  it('round-trips custom messages for an advertised capability, and refuses others', async () => {
    const a = agent();
    await a.sendFullReport();
    await a.send({ capabilities: PACKAGE_CAPS, customCapabilities: create(CustomCapabilitiesSchema, { capabilities: ['io.example.pause'] }) });

    const refused = await main(['message', 'send', a.uidText, '--capability', 'io.example.other', '--type', 'x', '--api', backend.url], () => {}).catch((e: Error) => e);
    await ctl('message', 'send', a.uidText, '--capability', 'io.example.pause', '--type', 'pause', '--data', 'for 5m');
    const delivered = await a.heartbeat(PACKAGE_CAPS);
    const again = await a.heartbeat(PACKAGE_CAPS);
    await a.send({ capabilities: PACKAGE_CAPS, customMessage: { capability: 'io.example.pause', type: 'paused', data: new TextEncoder().encode('ok') } });
    const box = JSON.parse(await ctl('messages', a.uidText));

    expect((refused as Error).message).toMatch(/409/);
    expect(delivered.reply?.customMessage).toMatchObject({ capability: 'io.example.pause', type: 'pause' });
    expect(new TextDecoder().decode(delivered.reply?.customMessage?.data)).toBe('for 5m');
    expect(again.reply?.customMessage).toBeUndefined();
    expect(box.received).toHaveLength(1);
    expect(box.received[0]).toMatchObject({ capability: 'io.example.pause', type: 'paused', data: Buffer.from('ok').toString('base64') });
    expect(box.queued).toEqual([]);
  });

  it('asks for available components once per new hash, and shows them', async () => {
    const a = agent();
    await a.sendFullReport();

    const hashOnly = await a.send({ capabilities: PACKAGE_CAPS, availableComponents: { hash: new Uint8Array([1, 2, 3]) } });
    const full = await a.send({
      capabilities: PACKAGE_CAPS,
      availableComponents: { hash: new Uint8Array([1, 2, 3]), components: { receivers: { subComponentMap: { otlp: {} } } } },
    });
    const sameHash = await a.send({ capabilities: PACKAGE_CAPS, availableComponents: { hash: new Uint8Array([1, 2, 3]) } });
    const view = (await (await fetch(`${backend.url}/api/v1/agents/${a.uidText}`)).json()) as any;

    const flag = ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents;
    expect(hasFlag(hashOnly.reply, flag)).toBe(true);
    expect(hasFlag(full.reply, flag)).toBe(false);
    expect(hasFlag(sameHash.reply, flag)).toBe(false);
    expect(view.availableComponents.hash).toBe('010203');
    expect(view.availableComponents.components.receivers.subComponentMap).toHaveProperty('otlp');
  });

  it('splits two agents sharing one uid: the one whose counter conflicts with the record gets its own uid', async () => {
    const original = agent('checkout');
    await original.sendFullReport();
    for (let i = 0; i < 5; i++) await original.heartbeat(PACKAGE_CAPS);
    const clone = new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      // A cloned VM: the same uid, but its own process, started later, with its own counter.
      report: (uid, seq) =>
        fullReport(uid, seq, {
          capabilities: PACKAGE_CAPS,
          agentDescription: description({ 'service.name': 'checkout' }),
          health: { ...health(true), startTimeUnixNano: 1_800_000_000_000_000_000n },
          effectiveConfig: undefined,
          remoteConfigStatus: undefined,
          packageStatuses: create(PackageStatusesSchema, {}),
        }),
    });
    clone.uid = original.uid;
    clone.nextSeq = 0n;

    const shared = original.uidText;

    const cloneFirst = await clone.sendFullReport(); // counter went backwards: a restart?
    const originalNext = await original.heartbeat(PACKAGE_CAPS); // ...no: the old counter continues
    const view = (await (await fetch(`${backend.url}/api/v1/agents/${shared}`)).json()) as any;
    const moved = (await (await fetch(`${backend.url}/api/v1/agents/${original.uidText}`)).json()) as any;

    expect(cloneFirst.reply?.agentIdentification).toBeUndefined();
    const newUid = originalNext.reply?.agentIdentification?.newInstanceUid;
    expect(newUid).toHaveLength(16);
    expect(view.duplicates).toHaveLength(1);
    expect(view.duplicates[0].reason).toMatch(/interleave/);
    expect(view.duplicates[0].newInstanceUid).toBe(original.uidText);
    expect(original.uidText).not.toBe(shared);
    expect(moved.instanceUid).toBe(original.uidText);
  });
});
