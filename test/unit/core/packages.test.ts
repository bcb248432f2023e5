import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackageStatusEnum, PackageType } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import {
  allPackagesHash,
  packageFolderOfName,
  packageHash,
  packageNameOfFolder,
  packageRolloutState,
  packageType,
  recordPackagesOffer,
  resolvePackageSet,
  shouldOfferPackages,
  summarizePackageStatuses,
} from '../../../functions/core/packages.js';
import type { PackageStatusSummary, PackageVersionMeta, PackagesOffer, ResolvedPackageSet } from '../../../functions/core/packages.js';
import { MINUTE, T0 } from './fixtures.js';
import { ACCEPTS_PACKAGES, PACKAGES_POLICY, PKG_CAPS, REPORTS_PACKAGE_STATUSES, catalog, pkg, statusesReport } from './package-fixtures.js';

const S = PackageStatusEnum;
const RESEND = PACKAGES_POLICY.resendAfterMs;
const bytesOf = (base64: string) => Buffer.from(base64, 'base64');

const hexSha = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const metaArb: fc.Arbitrary<PackageVersionMeta> = fc.record({
  name: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/)),
  version: fc.stringMatching(/^[0-9][0-9a-z.+-]{0,10}$/),
  objectKey: fc.string({ maxLength: 40 }),
  sha256: hexSha,
  size: fc.nat(),
  signature: fc.option(
    fc.uint8Array({ minLength: 1, maxLength: 24 }).map((b) => Buffer.from(b).toString('base64')),
    { nil: undefined },
  ),
});

describe('packageHash', () => {
  it('is 32 bytes, and the same for equal content', () => {
    fc.assert(
      fc.property(metaArb, (meta) => {
        // Act
        const hash = packageHash(meta);

        // Assess
        expect(bytesOf(hash)).toHaveLength(32);
        expect(packageHash(structuredClone(meta))).toBe(hash);
      }),
    );
  });

  it('never changes with the object key or size (where and how the file is fetched)', () => {
    fc.assert(
      fc.property(metaArb, fc.string({ maxLength: 60 }), fc.nat(), (meta, objectKey, size) => {
        // Prepare: the object key is what the presigned URL is made from.
        const moved = { ...meta, objectKey: `https://bucket.example/${objectKey}?X-Amz-Signature=${size}`, size };

        // Act / Assess
        expect(packageHash(moved)).toBe(packageHash(meta));
      }),
    );
  });

  const changes: Array<[string, (m: PackageVersionMeta) => PackageVersionMeta]> = [
    ['name', (m) => ({ ...m, name: `${m.name}x` })],
    ['version', (m) => ({ ...m, version: `${m.version}.1` })],
    ['content SHA-256', (m) => ({ ...m, sha256: createHash('sha256').update(m.sha256).digest('hex') })],
    ['signature (changed or added)', (m) => ({ ...m, signature: Buffer.from(`other ${m.signature ?? ''}`).toString('base64') })],
    ['signature (removed or added)', (m) => (m.signature === undefined ? { ...m, signature: 'c2ln' } : { ...m, signature: undefined })],
  ];

  it.each(changes)('changes with the %s', (_name, change) => {
    fc.assert(
      fc.property(metaArb, (meta) => {
        // Act / Assess
        expect(packageHash(change(meta))).not.toBe(packageHash(meta));
      }),
    );
  });

  it('depends on the type: the agent itself (TopLevel) and an addon with otherwise equal fields differ', () => {
    // Prepare: the type is derived from the name, so compare '' with a name spelled like the folder.
    const agent = pkg('', '1.0.0', { content: 'same' });
    const addon = { ...agent, name: '_agent' };

    // Act / Assess
    expect(packageType(agent.name)).toBe(PackageType.PackageType_TopLevel);
    expect(packageType(addon.name)).toBe(PackageType.PackageType_Addon);
    expect(packageHash(addon)).not.toBe(packageHash(agent));
  });
});

describe('allPackagesHash', () => {
  const uniqueSet = fc.uniqueArray(metaArb, { selector: (m) => m.name, minLength: 1, maxLength: 6 });

  it('is 32 bytes and independent of the order of the set', () => {
    fc.assert(
      fc.property(
        uniqueSet.chain((set) => fc.tuple(fc.constant(set), fc.shuffledSubarray(set, { minLength: set.length, maxLength: set.length }))),
        ([set, shuffled]) => {
          // Act
          const hash = allPackagesHash(set);

          // Assess
          expect(bytesOf(hash)).toHaveLength(32);
          expect(allPackagesHash(shuffled)).toBe(hash);
        },
      ),
    );
  });

  it('changes when any one package of the set changes', () => {
    fc.assert(
      fc.property(uniqueSet, fc.nat(), fc.constantFrom<'version' | 'sha256' | 'signature'>('version', 'sha256', 'signature'), (set, pick, field) => {
        // Prepare
        const i = pick % set.length;
        const changed = set.map((m, j) => {
          if (j !== i) return m;
          if (field === 'version') return { ...m, version: `${m.version}-rc` };
          if (field === 'sha256') return { ...m, sha256: createHash('sha256').update(m.sha256).digest('hex') };
          return { ...m, signature: m.signature === undefined ? 'c2ln' : undefined };
        });

        // Act / Assess
        expect(allPackagesHash(changed)).not.toBe(allPackagesHash(set));
      }),
    );
  });

  it('changes when a package is added to or removed from the set, and ignores object keys', () => {
    // Prepare
    const agent = pkg('', '0.140.0');
    const ext = pkg('ext', '1.0.0');

    // Act
    const one = allPackagesHash([agent]);
    const two = allPackagesHash([agent, ext]);
    const movedKeys = allPackagesHash([
      { ...agent, objectKey: 'elsewhere' },
      { ...ext, objectKey: 'elsewhere/too' },
    ]);

    // Assess
    expect(two).not.toBe(one);
    expect(movedKeys).toBe(two);
  });
});

describe('resolvePackageSet', () => {
  const agent140 = pkg('', '0.140.0');
  const ext1 = pkg('ext', '1.0.0', { signature: 'sig' });
  const broken = pkg('ext', '2.0.0', { error: 'packages/ext/2.0.0/ holds 2 files' });
  const known = catalog(agent140, ext1, broken);

  it('resolves a set whose every version is usable, with the set hash', () => {
    // Act
    const result = resolvePackageSet({ '': '0.140.0', ext: '1.0.0' }, known);

    // Assess
    expect(result).toEqual({ set: { hash: allPackagesHash([agent140, ext1]), packages: expect.arrayContaining([agent140, ext1]) } });
    expect((result as { set: ResolvedPackageSet }).set.packages).toHaveLength(2);
  });

  it.each<[string, Record<string, string>, RegExp[]]>([
    ['a version not in the bucket', { '': '0.140.0', ext: '9.9.9' }, [/ext 9\.9\.9 is not in the bucket/]],
    ["the agent's version not in the bucket", { '': '0.999.0', ext: '1.0.0' }, [/_agent \(the agent\) 0\.999\.0 is not in the bucket/]],
    ['a version recorded with an error', { '': '0.140.0', ext: '2.0.0' }, [/ext 2\.0\.0: packages\/ext\/2\.0\.0\/ holds 2 files/]],
    ['two unusable versions (both reported)', { '': '0.1.0', ext: '2.0.0' }, [/0\.1\.0 is not in the bucket/, /ext 2\.0\.0:/]],
  ])('yields errors and no set (never a partial set) for %s', (_name, spec, expected) => {
    // Act
    const result = resolvePackageSet(spec, known);

    // Assess
    expect(result).not.toHaveProperty('set');
    const { errors } = result as { errors: string[] };
    expect(errors).toHaveLength(expected.length);
    for (const [i, pattern] of expected.entries()) expect(errors[i]).toMatch(pattern);
  });
});

describe('the top-level package folder', () => {
  it.each<[string, string]>([
    ['_agent', ''],
    ['otelcol-contrib', 'otelcol-contrib'],
  ])('folder %j is package %j, and back', (folder, name) => {
    // Act / Assess
    expect(packageNameOfFolder(folder)).toBe(name);
    expect(packageFolderOfName(name)).toBe(folder);
  });
});

describe('shouldOfferPackages', () => {
  const desired: ResolvedPackageSet = { hash: allPackagesHash([pkg('', '0.141.0')]), packages: [pkg('', '0.141.0')] };
  const other = allPackagesHash([pkg('', '0.140.0')]);
  const offered = (overrides: Partial<PackagesOffer> = {}): PackagesOffer => ({ hash: desired.hash, offeredAt: T0, offeredSeq: 1n, attempts: 1, ...overrides });

  type Case = [string, { capabilities?: bigint; reportedHash?: string; offer?: PackagesOffer; desired?: ResolvedPackageSet | null; now?: number }, boolean];
  it.each<Case>([
    ['a new set to an agent that accepts packages', {}, true],
    ['a new set when an older set was offered before', { offer: offered({ hash: other, attempts: 3 }) }, true],
    ['a new set although the agent reports another set', { reportedHash: other }, true],
    ['no set to an agent without AcceptsPackages', { capabilities: PKG_CAPS & ~ACCEPTS_PACKAGES }, false],
    ['nothing when no set is assigned', { desired: null }, false],
    ['nothing when the agent reports the desired hash', { reportedHash: desired.hash }, false],
    ['nothing when the agent reports the desired hash, even with an old offer long ago', { reportedHash: desired.hash, offer: offered({ hash: other }), now: T0 + 24 * 60 * MINUTE }, false],
    ['not again before the quiet period', { offer: offered(), now: T0 + RESEND - 1 }, false],
    ['again once the quiet period passed', { offer: offered(), now: T0 + RESEND }, true],
    ['again on the last allowed attempt', { offer: offered({ attempts: 2 }), now: T0 + RESEND }, true],
    ['not after maxAttempts, however long', { offer: offered({ attempts: 3 }), now: T0 + 365 * 24 * 60 * MINUTE }, false],
    ['not again to an agent without ReportsPackageStatuses', { capabilities: PKG_CAPS & ~REPORTS_PACKAGE_STATUSES, offer: offered(), now: T0 + 10 * RESEND }, false],
  ])('offers %s', (_name, c, expected) => {
    // Act
    const result = shouldOfferPackages({
      capabilities: c.capabilities ?? PKG_CAPS,
      reportedHash: c.reportedHash,
      offer: c.offer,
      desired: c.desired === null ? undefined : (c.desired ?? desired),
      now: c.now ?? T0,
      policy: PACKAGES_POLICY,
    });

    // Assess
    expect(result).toBe(expected);
  });
});

describe('recordPackagesOffer', () => {
  it.each<[string, PackagesOffer | undefined, string, number]>([
    ['a first offer', undefined, 'h1', 1],
    ['the same set again', { hash: 'h1', offeredAt: T0 - MINUTE, offeredSeq: 3n, attempts: 2 }, 'h1', 3],
    ['another set', { hash: 'h0', offeredAt: T0 - MINUTE, offeredSeq: 3n, attempts: 3 }, 'h1', 1],
  ])('counts %s', (_name, previous, hash, attempts) => {
    // Act
    const offer = recordPackagesOffer(previous, hash, T0, 7n);

    // Assess
    expect(offer).toEqual({ hash, offeredAt: T0, offeredSeq: 7n, attempts });
  });
});

describe('summarizePackageStatuses', () => {
  it("keeps each package's versions, status name, error and download progress, compactly", () => {
    // Prepare
    const statuses = statusesReport('aGFzaA==', {
      '': { has: '0.140.0', offered: '0.141.0', status: S.PackageStatusEnum_Downloading, downloadPercent: 42.5 },
      ext: { has: '1.0.0', offered: '2.0.0', status: S.PackageStatusEnum_InstallFailed, error: 'checksum mismatch' },
      other: { has: '3.0.0', offered: '3.0.0' },
      pending: { has: '', offered: '1.0.0', status: S.PackageStatusEnum_InstallPending },
      installing: { has: '', offered: '1.0.0', status: S.PackageStatusEnum_Installing },
    });

    // Act
    const summary = summarizePackageStatuses(statuses);

    // Assess
    expect(summary).toEqual({
      '': { hasVersion: '0.140.0', offeredVersion: '0.141.0', status: 'Downloading', downloadPercent: 42.5 },
      ext: { hasVersion: '1.0.0', offeredVersion: '2.0.0', status: 'InstallFailed', error: 'checksum mismatch' },
      other: { hasVersion: '3.0.0', offeredVersion: '3.0.0', status: 'Installed' },
      pending: { hasVersion: '', offeredVersion: '1.0.0', status: 'InstallPending' },
      installing: { hasVersion: '', offeredVersion: '1.0.0', status: 'Installing' },
    });
  });
});

describe('packageRolloutState', () => {
  const summary = (hasVersion: string, offeredVersion: string, status: string): PackageStatusSummary => ({ hasVersion, offeredVersion, status });

  it.each<[string, PackageStatusSummary | undefined, string]>([
    ['no report at all', undefined, 'pending'],
    ['installed the version', summary('2.0.0', '2.0.0', 'Installed'), 'installed'],
    ['has the version installed, with no offer reported', summary('2.0.0', '', 'Installed'), 'installed'],
    ['downloading the offered version', summary('1.0.0', '2.0.0', 'Downloading'), 'installing'],
    ['install pending for the offered version', summary('1.0.0', '2.0.0', 'InstallPending'), 'installing'],
    ['installing the offered version', summary('1.0.0', '2.0.0', 'Installing'), 'installing'],
    ['failed to install the offered version', summary('1.0.0', '2.0.0', 'InstallFailed'), 'failed'],
    ['failed on another version (not offered this one yet)', summary('1.0.0', '3.0.0', 'InstallFailed'), 'pending'],
    ['still working on another version', summary('1.0.0', '3.0.0', 'Installing'), 'pending'],
    ['reporting an older version installed', summary('1.0.0', '1.0.0', 'Installed'), 'pending'],
    ['reporting Installed for the offered version while having another', summary('1.0.0', '2.0.0', 'Installed'), 'pending'],
  ])('is %s', (_name, s, expected) => {
    // Act / Assess
    expect(packageRolloutState(PKG_CAPS, '2.0.0', s)).toBe(expected);
  });

  it.each<[string, PackageStatusSummary | undefined]>([
    ['no report at all', undefined],
    ['a report of the version installed', summary('2.0.0', '2.0.0', 'Installed')],
  ])('is not-accepted, never pending, for an agent without AcceptsPackages and %s', (_name, s) => {
    // Act / Assess
    expect(packageRolloutState(PKG_CAPS & ~ACCEPTS_PACKAGES, '2.0.0', s)).toBe('not-accepted');
  });
});
