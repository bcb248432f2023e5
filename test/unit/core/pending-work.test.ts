import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import type { QueuedCommand, QueuedMessage } from '../../../functions/core/agent-commands.js';
import type { FleetState } from '../../../functions/core/fleet.js';
import { allPackagesHash } from '../../../functions/core/packages.js';
import type { PackageStatusSummary } from '../../../functions/core/packages.js';
import { pendingWork } from '../../../functions/core/pending-work.js';
import { AGENT_UID_TEXT, MINUTE, SECOND, T0 } from './fixtures.js';
import { APPLIED, APPLYING, FAILED, POLICY as CONFIG_POLICY, config, offerOf, reported, selectorAssignment } from './fleet-fixtures.js';
import { ACCEPTS_PACKAGES, ACCEPTS_RESTART, PACKAGES_POLICY, REPORTS_PACKAGE_STATUSES, catalog, packagesAssignment, pkg } from './package-fixtures.js';
import { ACCEPTS_RC, REPORTS_RC, REPORTS_STATUS } from './settings-fixtures.js';

const POLICY = { features: { remoteConfig: true, packages: true }, remoteConfig: CONFIG_POLICY, packages: PACKAGES_POLICY };
const NOW = T0 + MINUTE;

const CHECKOUT = config('checkout');
const AGENT_141 = pkg('', '0.141.0');
const SET = allPackagesHash([AGENT_141]);

/** Configuration `checkout` and package set {agent 0.141.0} for checkout agents. */
const FLEET: FleetState = {
  generation: '1',
  configs: new Map([[CHECKOUT.name, CHECKOUT]]),
  assignments: [selectorAssignment('checkout-config', 'checkout', 'service.name=checkout'), packagesAssignment('checkout-packages', { '': '0.141.0' }, { selector: 'service.name=checkout' })],
  packages: catalog(AGENT_141),
  settings: new Map(),
  certificates: new Map(),
  rollouts: new Map(),
};

const CONFIG_AGENT = REPORTS_STATUS | ACCEPTS_RC | REPORTS_RC;
const PACKAGE_AGENT = REPORTS_STATUS | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES;

function agent(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    instanceUid: AGENT_UID_TEXT,
    version: 3,
    sequenceNum: 5n,
    lastMessageDigest: '',
    capabilities: REPORTS_STATUS,
    firstSeenAt: T0,
    lastSeenAt: T0,
    attributes: { 'service.name': 'checkout' },
    sections: {},
    sectionIds: {},
    expiresAt: 0,
    ...overrides,
  };
}

const restart: QueuedCommand = { type: 'restart', id: 'cmd-1', queuedAt: T0, expiresAt: NOW + MINUTE };
const message = (capability: string, expiresAt = NOW + MINUTE): QueuedMessage => ({ id: 'msg-1', capability, type: 'ping', data: '', queuedAt: T0, expiresAt });
const packageState = (status: string): Record<string, PackageStatusSummary> => ({ '': { hasVersion: '0.140.0', offeredVersion: '0.141.0', status } });

describe('pendingWork', () => {
  it('is nothing for an agent with nothing queued and nothing assigned', () => {
    // Act
    const pending = pendingWork(agent({ capabilities: CONFIG_AGENT | PACKAGE_AGENT | ACCEPTS_RESTART, attributes: { 'service.name': 'cart' } }), FLEET, POLICY, NOW);

    // Assess
    expect(pending).toBeUndefined();
  });

  describe('a queued restart', () => {
    it.each<[string, Partial<AgentRecord>, 'command' | undefined]>([
      ['for an agent that accepts it', { capabilities: ACCEPTS_RESTART, pendingCommand: restart }, 'command'],
      ['that expired', { capabilities: ACCEPTS_RESTART, pendingCommand: { ...restart, expiresAt: NOW } }, undefined],
      ['for an agent that does not accept restarts', { capabilities: REPORTS_STATUS, pendingCommand: restart }, undefined],
      ['already delivered', { capabilities: ACCEPTS_RESTART, lastCommand: { type: 'restart', id: 'cmd-1', queuedAt: T0, deliveredAt: T0 } }, undefined],
    ])('%s: %s', (_name, overrides, expected) => {
      // Act
      const pending = pendingWork(agent({ attributes: {}, ...overrides }), FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe(expected);
    });
  });

  describe('a queued custom message', () => {
    it.each<[string, Partial<AgentRecord>, 'message' | undefined]>([
      ['for a capability the agent has', { customCapabilities: ['io.example.ping'], outbox: [message('io.example.ping')] }, 'message'],
      ['for a capability the agent lacks', { customCapabilities: ['io.example.other'], outbox: [message('io.example.ping')] }, undefined],
      ['for an agent that announced no custom capabilities', { outbox: [message('io.example.ping')] }, undefined],
      ['that expired', { customCapabilities: ['io.example.ping'], outbox: [message('io.example.ping', NOW)] }, undefined],
      ['behind one the agent cannot take', { customCapabilities: ['io.example.ping'], outbox: [message('io.example.other'), message('io.example.ping')] }, 'message'],
    ])('%s: %s', (_name, overrides, expected) => {
      // Act
      const pending = pendingWork(agent({ attributes: {}, ...overrides }), FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe(expected);
    });
  });

  describe('an assigned configuration', () => {
    it.each<[string, Partial<AgentRecord>, 'config' | undefined]>([
      ['not offered yet', {}, 'config'],
      ['offered to an agent that reports, without a report yet', { configOffer: offerOf(CHECKOUT) }, 'config'],
      ['reported APPLYING', { configOffer: offerOf(CHECKOUT, { acknowledged: true }), remoteConfigStatus: reported(CHECKOUT.hash, APPLYING) }, 'config'],
      ['reported APPLIED', { configOffer: offerOf(CHECKOUT, { acknowledged: true }), remoteConfigStatus: reported(CHECKOUT.hash, APPLIED) }, undefined],
      ['reported FAILED (the server gave up)', { configOffer: offerOf(CHECKOUT, { acknowledged: true }), remoteConfigStatus: reported(CHECKOUT.hash, FAILED, 'bad yaml') }, undefined],
      ['rolled back from', { configOffer: offerOf(CHECKOUT, { acknowledged: true, rolledBackAt: T0, rolledBackTo: 'b2xk' }), remoteConfigStatus: reported('b2xk', APPLIED) }, undefined],
      ['offered the maximum number of times without being taken', { configOffer: offerOf(CHECKOUT, { attempts: CONFIG_POLICY.maxAttempts, offeredAt: NOW - CONFIG_POLICY.resendAfterMs }) }, undefined],
      ['offered to an agent that never reports (nothing would end the wait)', { capabilities: REPORTS_STATUS | ACCEPTS_RC, configOffer: offerOf(CHECKOUT) }, undefined],
      ['assigned to an agent that does not accept remote configuration', { capabilities: REPORTS_STATUS | REPORTS_RC }, undefined],
    ])('%s: %s', (_name, overrides, expected) => {
      // Act
      const pending = pendingWork(agent({ capabilities: CONFIG_AGENT, ...overrides }), FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe(expected);
    });

    it('is pending for the configuration now assigned, not for one acknowledged before', () => {
      // Prepare: the agent applied `old`, and the assignment moved it to `checkout`.
      const old = config('old');
      const record = agent({ capabilities: CONFIG_AGENT, configOffer: offerOf(old, { acknowledged: true }), remoteConfigStatus: reported(old.hash, APPLIED) });

      // Act
      const pending = pendingWork(record, FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe('config');
    });
  });

  describe('an assigned package set', () => {
    it.each<[string, Partial<AgentRecord>, 'packages' | undefined]>([
      ['not offered yet', {}, 'packages'],
      ['offered to an agent that reports, without a report yet', { packagesOffer: { hash: SET, offeredAt: T0, offeredSeq: 1n, attempts: 1 } }, 'packages'],
      ['acknowledged by the agent', { packagesOffer: { hash: SET, offeredAt: T0, offeredSeq: 1n, attempts: 1 }, serverProvidedAllPackagesHash: SET, packages: packageState('Installed') }, undefined],
      ['offered the maximum number of times', { packagesOffer: { hash: SET, offeredAt: T0, offeredSeq: 1n, attempts: PACKAGES_POLICY.maxAttempts } }, undefined],
      ['offered to an agent that never reports', { capabilities: REPORTS_STATUS | ACCEPTS_PACKAGES, packagesOffer: { hash: SET, offeredAt: T0, offeredSeq: 1n, attempts: 1 } }, undefined],
      ['assigned to an agent that does not accept packages', { capabilities: REPORTS_STATUS | REPORTS_PACKAGE_STATUSES }, undefined],
    ])('%s: %s', (_name, overrides, expected) => {
      // Act
      const pending = pendingWork(agent({ capabilities: PACKAGE_AGENT, ...overrides }), FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe(expected);
    });

    it.each<[string, 'packages' | undefined]>([
      ['InstallPending', 'packages'],
      ['Installing', 'packages'],
      ['Downloading', 'packages'],
      ['Installed', undefined],
      ['InstallFailed', undefined],
    ])('after the set was acknowledged, a package reported %s makes it %s', (status, expected) => {
      // Prepare
      const record = agent({
        capabilities: PACKAGE_AGENT,
        serverProvidedAllPackagesHash: SET,
        packagesOffer: { hash: SET, offeredAt: T0, offeredSeq: 1n, attempts: 1 },
        packages: packageState(status),
      });

      // Act
      const pending = pendingWork(record, FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe(expected);
    });

    it('counts a package in progress even when no package set is assigned any more', () => {
      // Prepare
      const record = agent({ capabilities: PACKAGE_AGENT, attributes: { 'service.name': 'cart' }, packages: packageState('Downloading') });

      // Act
      const pending = pendingWork(record, FLEET, POLICY, NOW);

      // Assess
      expect(pending).toBe('packages');
    });
  });

  it('names the first kind of pending work: restart, message, configuration, packages', () => {
    const kinds = fc.record({ command: fc.boolean(), message: fc.boolean(), config: fc.boolean(), packages: fc.boolean() });
    fc.assert(
      fc.property(kinds, (has) => {
        // Prepare
        const record = agent({
          capabilities: ACCEPTS_RESTART | CONFIG_AGENT | PACKAGE_AGENT,
          ...(has.command ? { pendingCommand: restart } : {}),
          ...(has.message ? { customCapabilities: ['io.example.ping'], outbox: [message('io.example.ping')] } : {}),
          ...(has.config ? {} : { remoteConfigStatus: reported(CHECKOUT.hash, APPLIED) }),
          ...(has.packages ? {} : { serverProvidedAllPackagesHash: SET }),
        });

        // Act
        const pending = pendingWork(record, FLEET, POLICY, NOW + SECOND);

        // Assess
        const expected = has.command ? 'command' : has.message ? 'message' : has.config ? 'config' : has.packages ? 'packages' : undefined;
        expect(pending).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });
});
