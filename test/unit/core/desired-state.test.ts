import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { ConfigAssignment, FleetState } from '../../../functions/core/fleet.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { resolveConfigTarget, resolvePackagesTarget, resolveSettingsTarget, resolveTargets } from '../../../functions/core/targeting.js';
import { AGENT_UID_TEXT, OPTIONS, T0, digestOf, hb, storedAfter } from './fixtures.js';
import { POLICY as CONFIG_POLICY, config } from './fleet-fixtures.js';
import { ACCEPTS_PACKAGES, PACKAGES_POLICY, REPORTS_PACKAGE_STATUSES, catalog, pkg } from './package-fixtures.js';
import { ACCEPTS_OPAMP, ACCEPTS_RC, REPORTS_HEARTBEAT, REPORTS_RC, REPORTS_SETTINGS, REPORTS_STATUS, SETTINGS_POLICY, connectionContext } from './settings-fixtures.js';

/** How often each kind of target, and the package set, was worked out. */
const resolved = vi.hoisted(() => ({ config: 0, packages: 0, settings: 0, packageSet: 0 }));

// Every way to resolve a target counts towards the kinds it resolves, so a
// feature that resolves on its own (through any of them) shows up here.
vi.mock('../../../functions/core/targeting.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../functions/core/targeting.js')>();
  const counted =
    <A extends unknown[], R>(kinds: Array<'config' | 'packages' | 'settings'>, f: (...args: A) => R) =>
    (...args: A): R => {
      for (const kind of kinds) resolved[kind]++;
      return f(...args);
    };
  return {
    ...original,
    resolveTargets: counted(['config', 'packages', 'settings'], original.resolveTargets),
    resolveConfigTarget: counted(['config'], original.resolveConfigTarget),
    resolvePackagesTarget: counted(['packages'], original.resolvePackagesTarget),
    resolveSettingsTarget: counted(['settings'], original.resolveSettingsTarget),
  };
});
vi.mock('../../../functions/core/packages.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../functions/core/packages.js')>();
  return {
    ...original,
    resolvePackageSet: (...args: Parameters<typeof original.resolvePackageSet>) => {
      resolved.packageSet++;
      return original.resolvePackageSet(...args);
    },
  };
});

/** An agent that takes configuration, packages and connection settings, and reports on all three. */
const CAPS = REPORTS_STATUS | ACCEPTS_RC | REPORTS_RC | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES | ACCEPTS_OPAMP | REPORTS_HEARTBEAT | REPORTS_SETTINGS;
const CHECKOUT = config('checkout');
const AGENT_141 = pkg('', '0.141.0');
const CHECKOUT_SELECTOR = parseSelector('service.name=checkout');

const FLEET: FleetState = {
  generation: '1',
  configs: new Map([[CHECKOUT.name, CHECKOUT]]),
  assignments: [
    { name: 'checkout', config: 'checkout', packages: { '': '0.141.0' }, settings: 'steered', selector: CHECKOUT_SELECTOR, priority: 0 },
    { name: 'other', config: 'other', selector: parseSelector('service.name=other'), priority: 5 },
  ],
  packages: catalog(AGENT_141),
  settings: new Map([['steered', { opamp: { heartbeat: { idleSeconds: 120 } } }]]),
  certificates: new Map(),
  rollouts: new Map(),
};

const OPTS: CoreOptions = {
  ...OPTIONS,
  features: { ...OPTIONS.features, remoteConfig: true, packages: true, connectionSettings: true },
  remoteConfig: CONFIG_POLICY,
  packages: PACKAGES_POLICY,
  settings: SETTINGS_POLICY,
};

function checkoutAgent(): AgentRecord {
  return {
    instanceUid: AGENT_UID_TEXT,
    version: 3,
    sequenceNum: 4n,
    lastMessageDigest: '',
    capabilities: CAPS,
    firstSeenAt: T0,
    lastSeenAt: T0,
    attributes: { 'service.name': 'checkout' },
    sections: {},
    sectionIds: {},
    expiresAt: 0,
  };
}

function decide(record: AgentRecord, seq: bigint): PollDecision {
  const message = hb(seq, CAPS);
  return decidePoll({
    record: structuredClone(record),
    message,
    messageDigest: digestOf(message),
    now: T0 + 1_000,
    newInstanceUid: () => {
      throw new Error('no new uid expected');
    },
    options: OPTS,
    fleet: FLEET,
    connection: connectionContext(),
  });
}

describe('desired state', () => {
  beforeEach(() => {
    Object.assign(resolved, { config: 0, packages: 0, settings: 0, packageSet: 0 });
  });

  it('is worked out once for a poll that offers configuration, packages and connection settings', () => {
    // Act
    const decision = decide(checkoutAgent(), 5n);

    // Assert: every feature had its offer, from one resolution of each kind
    expect(decision.reply.remoteConfig).toBeDefined();
    expect(decision.reply.packagesAvailable).toBeDefined();
    expect(decision.reply.connectionSettings?.opamp?.heartbeatIntervalSeconds).toBe(BigInt(SETTINGS_POLICY.heartbeat.pendingSeconds));
    expect(resolved).toEqual({ config: 1, packages: 1, settings: 1, packageSet: 1 });
  });

  it('is worked out once for a retried message whose lost reply carried every offer', () => {
    // Arrange
    const offered = storedAfter(decide(checkoutAgent(), 5n));
    Object.assign(resolved, { config: 0, packages: 0, settings: 0, packageSet: 0 });

    // Act
    const retry = decide(offered, 5n);

    // Assert
    expect(retry.events).toEqual(['duplicate']);
    expect(retry.reply.packagesAvailable).toBeDefined();
    expect(retry.reply.connectionSettings).toBeDefined();
    expect(resolved.packages).toBe(1);
    expect(resolved.settings).toBe(1);
    expect(resolved.packageSet).toBe(1);
  });

  it('is not worked out at all for a heartbeat of an agent that takes nothing', () => {
    // Act
    const message = hb(5n, REPORTS_STATUS);
    decidePoll({
      record: { ...checkoutAgent(), capabilities: REPORTS_STATUS },
      message,
      messageDigest: digestOf(message),
      now: T0 + 1_000,
      newInstanceUid: () => AGENT_UID_TEXT,
      options: OPTS,
      fleet: FLEET,
    });

    // Assert
    expect(resolved).toEqual({ config: 0, packages: 0, settings: 0, packageSet: 0 });
  });
});

describe('resolveTargets', () => {
  const KEYS = ['a', 'b', 'c'];
  const assignment = fc.record({
    name: fc.constantFrom('default', 'n1', 'n2', 'n3', 'n4'),
    config: fc.option(fc.constantFrom('c1', 'c2', 'default'), { nil: undefined }),
    packages: fc.option(fc.constantFrom<Record<string, string>>({ x: '1' }, { y: '2' }), { nil: undefined }),
    settings: fc.option(fc.constantFrom('s1', 'default'), { nil: undefined }),
    target: fc.oneof(
      fc.constant({}),
      fc.constantFrom(AGENT_UID_TEXT, '01890a5e-0000-7000-8000-00000000abcd').map((instanceUid) => ({ instanceUid })),
      fc.subarray(KEYS, { minLength: 1 }).map((keys) => ({ selector: keys.map((key) => ({ key, value: '1' })) })),
    ),
    priority: fc.integer({ min: 0, max: 2 }),
  });

  it('chooses what resolving each kind on its own chooses', () => {
    fc.assert(
      fc.property(fc.array(assignment, { maxLength: 8 }), fc.subarray(KEYS), (drawn, held) => {
        // Arrange
        const assignments: ConfigAssignment[] = drawn.map(({ target, ...a }) => ({ ...a, ...target }));
        const fleet: FleetState = {
          ...FLEET,
          configs: new Map([CHECKOUT, config('c1'), config('default')].map((c) => [c.name, c])),
          settings: new Map([
            ['s1', {}],
            ['default', {}],
          ]),
          assignments,
        };
        const agent = { instanceUid: AGENT_UID_TEXT, attributes: Object.fromEntries(held.map((k) => [k, '1'])) };

        // Act
        const together = resolveTargets(agent, fleet);

        // Assert
        expect(together).toEqual({
          config: resolveConfigTarget(agent, fleet),
          packages: resolvePackagesTarget(agent, fleet),
          settings: resolveSettingsTarget(agent, fleet),
        });
      }),
    );
  });
});
