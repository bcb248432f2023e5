import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentToServerSchema, RemoteConfigStatusSchema, ServerCapabilities } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import type { QueuedMessage } from '../../../functions/core/agent-commands.js';
import type { ConnectionContext, ConnectionSettingsSpec, IssuedCertificateRecord } from '../../../functions/core/connection-settings.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import type { FleetState } from '../../../functions/core/fleet.js';
import { deriveLiveness } from '../../../functions/core/liveness.js';
import { description } from '../../support/messages.js';
import { AGENT_UID, MINUTE, OPTIONS, SECOND, T0, customCapabilities, digestOf, storedAfter } from './fixtures.js';
import { APPLIED as CONFIG_APPLIED, POLICY as CONFIG_POLICY, config } from './fleet-fixtures.js';
import { ACCEPTS_PACKAGES, REPORTS_PACKAGE_STATUSES, catalog, packagesAssignment, pkg } from './package-fixtures.js';
import {
  ACCEPTS_OPAMP,
  ACCEPTS_RC,
  ACCEPTS_RESTART,
  APPLIED,
  ENDPOINT,
  FAILED,
  OWN_LOGS,
  OWN_METRICS,
  PRESENTED,
  REPORTS_HEARTBEAT,
  REPORTS_RC,
  REPORTS_SETTINGS,
  REPORTS_STATUS,
  SETTINGS_POLICY,
  connectionContext,
  headerEntries,
  issuedCertificate,
  resolvedCertificate,
  settingsAssignment,
  settingsFleet,
  settingsStatus,
} from './settings-fixtures.js';

const OPTS: CoreOptions = {
  ...OPTIONS,
  features: { ...OPTIONS.features, connectionSettings: true, connectionSettingsRequests: true },
  remoteConfig: CONFIG_POLICY,
  settings: SETTINGS_POLICY,
  serverCustomCapabilities: [],
};
const IDLE = SETTINGS_POLICY.heartbeat.idleSeconds;
const PENDING = SETTINGS_POLICY.heartbeat.pendingSeconds;
const RESEND = SETTINGS_POLICY.resendAfterMs;

/** A Collector under a supervisor that takes its OpAMP connection settings and lets the server steer its polling. */
const AGENT = REPORTS_STATUS | ACCEPTS_RC | REPORTS_RC | ACCEPTS_OPAMP | REPORTS_HEARTBEAT;
/** The same, reporting what became of connection settings offers. */
const REPORTING = AGENT | REPORTS_SETTINGS;

const CHECKOUT = config('checkout');
const NO_CONFIG = settingsFleet();
const WITH_CONFIG = settingsFleet({ configs: [CHECKOUT], assignments: [{ name: 'checkout', config: 'checkout', selector: [{ key: 'service.name', value: 'checkout' }], priority: 0 }] });

interface Step {
  record?: AgentRecord | undefined;
  now?: number;
  fleet?: FleetState;
  options?: CoreOptions;
  connection?: ConnectionContext;
  issuedCertificate?: IssuedCertificateRecord;
}

function decide(message: AgentToServer, step: Step = {}): PollDecision {
  return decidePoll({
    record: step.record === undefined ? undefined : structuredClone(step.record),
    message,
    messageDigest: digestOf(message),
    now: step.now ?? T0,
    newInstanceUid: () => {
      throw new Error('no new uid expected');
    },
    options: step.options ?? OPTS,
    fleet: step.fleet ?? NO_CONFIG,
    connection: step.connection ?? connectionContext(),
    ...(step.issuedCertificate ? { issuedCertificate: step.issuedCertificate } : {}),
  });
}

/** An agent talking to the server: each send decides against what the previous sends stored. */
function session(start?: AgentRecord) {
  let record = start;
  return {
    get record(): AgentRecord {
      if (!record) throw new Error('nothing stored yet');
      return record;
    },
    set record(r: AgentRecord) {
      record = r;
    },
    send(message: AgentToServer, step: Omit<Step, 'record'> = {}): PollDecision {
      const decision = decide(message, { ...step, record });
      if (decision.records.length > 0) record = storedAfter(decision);
      return decision;
    },
  };
}

/** A full report from a `checkout` agent with the given capabilities. */
function hello(seq: bigint, capabilities: bigint, init: MessageInitShape<typeof AgentToServerSchema> = {}): AgentToServer {
  return create(AgentToServerSchema, {
    instanceUid: AGENT_UID,
    sequenceNum: seq,
    capabilities,
    agentDescription: description({ 'service.name': 'checkout' }),
    remoteConfigStatus: create(RemoteConfigStatusSchema, {}),
    ...init,
  });
}

function beat(seq: bigint, capabilities: bigint, init: MessageInitShape<typeof AgentToServerSchema> = {}): AgentToServer {
  return create(AgentToServerSchema, { instanceUid: AGENT_UID, sequenceNum: seq, capabilities, ...init });
}

function configApplied(hash: string) {
  return create(RemoteConfigStatusSchema, { lastRemoteConfigHash: new Uint8Array(Buffer.from(hash, 'base64')), status: CONFIG_APPLIED });
}

/** The poll interval a reply asks for, if it carries one. */
function interval(reply: ServerToAgent): number | undefined {
  const seconds = reply.connectionSettings?.opamp?.heartbeatIntervalSeconds;
  return seconds === undefined ? undefined : Number(seconds);
}

function offeredHash(reply: ServerToAgent): string {
  const hash = reply.connectionSettings?.hash;
  if (!hash) throw new Error('the reply offers no connection settings');
  return Buffer.from(hash).toString('base64');
}

const at = (minutes: number) => T0 + minutes * MINUTE;

describe('decidePoll: connection settings', () => {
  describe('poll intervals as work comes and goes', () => {
    it('gives an agent that does not report settings status the idle interval, the pending one with a configuration, and the idle one once it is applied', () => {
      // Prepare
      const agent = session();

      // Act
      const first = agent.send(hello(1n, AGENT), { now: at(0) });
      const quiet = agent.send(beat(2n, AGENT), { now: at(1) });
      const assigned = agent.send(beat(3n, AGENT), { now: at(2), fleet: WITH_CONFIG });
      const afterAssigned = agent.record;
      const applied = agent.send(beat(4n, AGENT, { remoteConfigStatus: configApplied(CHECKOUT.hash) }), { now: at(3), fleet: WITH_CONFIG });
      const settled = agent.send(beat(5n, AGENT), { now: at(4), fleet: WITH_CONFIG });

      // Assess
      expect(interval(first.reply)).toBe(IDLE);
      expect(first.reply.connectionSettings?.opamp?.destinationEndpoint).toBe(ENDPOINT);
      expect(quiet.reply.connectionSettings).toBeUndefined();
      expect(assigned.reply.remoteConfig?.configHash).toEqual(new Uint8Array(Buffer.from(CHECKOUT.hash, 'base64')));
      expect(interval(assigned.reply)).toBe(PENDING);
      expect(afterAssigned.heartbeatSeconds).toBe(PENDING);
      expect(applied.reply.remoteConfig).toBeUndefined();
      expect(interval(applied.reply)).toBe(IDLE);
      expect(agent.record.heartbeatSeconds).toBe(IDLE);
      expect(settled.reply.connectionSettings).toBeUndefined();
    });

    it('gives a reporting agent the same, and nothing more once it reports the idle settings APPLIED', () => {
      // Prepare
      const agent = session();

      // Act
      const first = agent.send(hello(1n, REPORTING), { now: at(0) });
      const idleHash = offeredHash(first.reply);
      const assigned = agent.send(beat(2n, REPORTING, { connectionSettingsStatus: settingsStatus(idleHash, APPLIED) }), { now: at(1), fleet: WITH_CONFIG });
      const pendingHash = offeredHash(assigned.reply);
      const applied = agent.send(
        beat(3n, REPORTING, {
          remoteConfigStatus: configApplied(CHECKOUT.hash),
          connectionSettingsStatus: settingsStatus(pendingHash, APPLIED),
        }),
        { now: at(2), fleet: WITH_CONFIG },
      );
      const confirmed = agent.send(beat(4n, REPORTING, { connectionSettingsStatus: settingsStatus(offeredHash(applied.reply), APPLIED) }), { now: at(3), fleet: WITH_CONFIG });
      const later = [at(3) + RESEND, at(3) + 10 * RESEND].map((now, i) => agent.send(beat(5n + BigInt(i), REPORTING), { now, fleet: WITH_CONFIG }));

      // Assess
      expect(interval(first.reply)).toBe(IDLE);
      expect(assigned.reply.remoteConfig).toBeDefined();
      expect(interval(assigned.reply)).toBe(PENDING);
      expect(pendingHash).not.toBe(idleHash);
      expect(applied.reply.remoteConfig).toBeUndefined();
      expect(interval(applied.reply)).toBe(IDLE);
      expect(offeredHash(applied.reply)).toBe(idleHash);
      expect(confirmed.reply.connectionSettings).toBeUndefined();
      for (const decision of later) expect(decision.reply.connectionSettings).toBeUndefined();
      expect(agent.record.settingsApplied).toMatchObject({ hash: idleHash, assumed: false, heartbeatSeconds: IDLE });
    });

    it('offers a reporting agent that has not answered yet nothing new on its next poll, and the same hash again after resendAfterMs', () => {
      // Prepare
      const agent = session();
      const first = agent.send(hello(1n, REPORTING), { now: at(0) });

      // Act
      const early = agent.send(beat(2n, REPORTING), { now: at(0) + RESEND - 1 });
      const due = agent.send(beat(3n, REPORTING), { now: at(0) + RESEND });

      // Assess
      expect(early.reply.connectionSettings).toBeUndefined();
      expect(offeredHash(due.reply)).toBe(offeredHash(first.reply));
      expect(agent.record.settingsOffer?.attempts).toBe(2);
    });

    it('stops offering to a reporting agent that never answers', () => {
      // Prepare
      const agent = session();
      agent.send(hello(1n, REPORTING), { now: at(0) });

      // Act
      const offered = Array.from({ length: 12 }, (_, i) => agent.send(beat(2n + BigInt(i), REPORTING), { now: at(0) + (i + 1) * RESEND })).map((d) => d.reply.connectionSettings !== undefined);

      // Assess
      expect(offered.slice(-4)).toEqual([false, false, false, false]);
    });

    it('does not offer again a hash the agent reported FAILED', () => {
      // Prepare
      const agent = session();
      const first = agent.send(hello(1n, REPORTING), { now: at(0) });

      // Act
      const failed = agent.send(beat(2n, REPORTING, { connectionSettingsStatus: settingsStatus(offeredHash(first.reply), FAILED, 'cannot reach the endpoint') }), { now: at(1) });
      const later = [RESEND, 10 * RESEND].map((after, i) => agent.send(beat(3n + BigInt(i), REPORTING), { now: at(1) + after }));

      // Assess
      expect(failed.reply.connectionSettings).toBeUndefined();
      for (const decision of later) expect(decision.reply.connectionSettings).toBeUndefined();
    });

    it('treats a queued custom message the agent can take as pending, and one for a capability it lacks as not', () => {
      // Prepare
      const message = (id: string, capability: string): QueuedMessage => ({ id, capability, type: 'ping', data: '', queuedAt: T0, expiresAt: at(10) });
      const known = storedAfter(decide(hello(1n, AGENT, { customCapabilities: customCapabilities('io.example.ping') }), { connection: connectionContext({ endpoint: undefined }) }));

      // Act
      const lacking = decide(beat(2n, AGENT), { record: { ...known, outbox: [message('m1', 'io.example.other')] }, now: at(1) });
      const two = decide(beat(2n, AGENT), { record: { ...known, outbox: [message('m1', 'io.example.ping'), message('m2', 'io.example.ping')] }, now: at(1) });

      // Assess
      expect(known.settingsOffer).toBeUndefined();
      expect(lacking.reply.customMessage).toBeUndefined();
      expect(interval(lacking.reply)).toBe(IDLE);
      expect(two.reply.customMessage).toBeDefined();
      expect(interval(two.reply)).toBe(PENDING);
    });

    it.each<[string, CoreOptions['features'], FleetState, bigint]>([
      ['remote configuration', { ...OPTS.features, remoteConfig: false }, WITH_CONFIG, AGENT],
      ['packages', { ...OPTS.features, packages: false }, settingsFleet({ assignments: [packagesAssignment('default', { '': '0.141.0' })] }), AGENT | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES],
    ])('does not hold the agent at the pending interval for work the server never offers (%s switched off)', (_name, features, fleet, capabilities) => {
      // Prepare
      const options = { ...OPTS, features };
      const withPackage = { ...fleet, packages: catalog(pkg('', '0.141.0')) };

      // Act
      const decision = decide(hello(1n, capabilities), { options, fleet: withPackage });

      // Assess
      expect(decision.reply.remoteConfig).toBeUndefined();
      expect(decision.reply.packagesAvailable).toBeUndefined();
      expect(interval(decision.reply)).toBe(IDLE);
    });

    it('offers nothing while the server steers nothing and no document targets the agent', () => {
      // Act
      const decision = decide(hello(1n, AGENT), { options: { ...OPTS, settings: { ...SETTINGS_POLICY, heartbeat: { idleSeconds: 0, pendingSeconds: 15 } } } });

      // Assess
      expect(decision.reply.connectionSettings).toBeUndefined();
      expect(storedAfter(decision).settingsOffer).toBeUndefined();
      expect(storedAfter(decision).heartbeatSeconds).toBeUndefined();
    });
  });

  describe('a queued restart', () => {
    const restart = { type: 'restart' as const, id: 'cmd-1', queuedAt: T0, expiresAt: at(30) };

    it('takes the reply alone: no settings travel with the command, and none are recorded as offered', () => {
      // Prepare
      const known = storedAfter(decide(hello(1n, AGENT | ACCEPTS_RESTART), { connection: connectionContext({ endpoint: undefined }) }));

      // Act
      const decision = decide(beat(2n, AGENT | ACCEPTS_RESTART), { record: { ...known, pendingCommand: restart }, now: at(1) });

      // Assess
      expect(decision.reply.command).toBeDefined();
      expect(decision.reply.connectionSettings).toBeUndefined();
      expect(decision.events).not.toContain('settings-offered');
      expect(storedAfter(decision).settingsOffer).toBeUndefined();
      expect(storedAfter(decision).heartbeatSeconds).toBeUndefined();
    });

    it('leaves the settings for the next poll when the command took the reply', () => {
      // Prepare
      const agent = session(storedAfter(decide(hello(1n, AGENT | ACCEPTS_RESTART), { connection: connectionContext({ endpoint: undefined }) })));
      agent.record = { ...agent.record, pendingCommand: restart };

      // Act
      const command = agent.send(beat(2n, AGENT | ACCEPTS_RESTART), { now: at(1) });
      const next = agent.send(beat(3n, AGENT | ACCEPTS_RESTART), { now: at(2) });

      // Assess
      expect(command.reply.command).toBeDefined();
      expect(command.reply.connectionSettings).toBeUndefined();
      expect(next.reply.connectionSettings?.opamp).toBeDefined();
      // The restart is delivered: nothing is pending any more.
      expect(interval(next.reply)).toBe(IDLE);
    });

    it('makes the interval pending while it waits for a reply it can travel in (a full-state request takes this one)', () => {
      // Prepare: a gap makes the server ask for the full state, and a command never travels with that flag.
      const known = storedAfter(decide(hello(1n, AGENT | ACCEPTS_RESTART), { connection: connectionContext({ endpoint: undefined }) }));

      // Act
      const decision = decide(beat(50n, AGENT | ACCEPTS_RESTART), { record: { ...known, pendingCommand: restart }, now: T0 + SECOND });

      // Assess
      expect(decision.events).toContain('sequence-gap');
      expect(decision.reply.command).toBeUndefined();
      expect(interval(decision.reply)).toBe(PENDING);
      expect(storedAfter(decision).pendingCommand).toEqual(restart);
    });
  });

  describe('a retried message', () => {
    it('gets the settings offer its lost reply carried again (an agent that does not report settings status)', () => {
      // Prepare
      const first = hello(1n, AGENT);
      const original = decide(first);

      // Act
      const retry = decide(first, { record: storedAfter(original), now: T0 + SECOND });

      // Assess
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.connectionSettings?.opamp).toBeDefined();
      expect(retry.reply.connectionSettings).toEqual(original.reply.connectionSettings);
    });

    it('gets the settings offer its lost reply carried again (a reporting agent)', () => {
      // Prepare
      const first = hello(1n, REPORTING);
      const original = decide(first);

      // Act
      const retry = decide(first, { record: storedAfter(original), now: T0 + SECOND });

      // Assess
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.connectionSettings?.opamp).toBeDefined();
      expect(retry.reply.connectionSettings).toEqual(original.reply.connectionSettings);
    });

    it('gets the configuration and the pending interval again when its lost reply carried both', () => {
      // Prepare
      const agent = session();
      agent.send(hello(1n, AGENT), { now: at(0) });
      const second = beat(2n, AGENT);
      const original = agent.send(second, { now: at(1), fleet: WITH_CONFIG });

      // Act
      const retry = decide(second, { record: agent.record, now: at(1) + SECOND, fleet: WITH_CONFIG });

      // Assess
      expect(interval(original.reply)).toBe(PENDING);
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.remoteConfig).toBeDefined();
      expect(retry.reply.connectionSettings).toEqual(original.reply.connectionSettings);
    });

    it('gets no settings when the lost reply carried none', () => {
      // Prepare
      const agent = session();
      agent.send(hello(1n, AGENT), { now: at(0) });
      const second = hello(2n, AGENT, { agentDescription: description({ 'service.name': 'checkout', 'service.version': '2' }) });
      const original = agent.send(second, { now: at(1) });

      // Act
      const retry = decide(second, { record: agent.record, now: at(1) + SECOND });

      // Assess
      expect(original.reply.connectionSettings).toBeUndefined();
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.connectionSettings).toBeUndefined();
    });
  });

  describe('what is offered', () => {
    const LOGS: ConnectionSettingsSpec = { ownLogs: { endpoint: 'https://otlp.example.com/v1/logs' } };

    it('sends only the part that changed when the interval switches', () => {
      // Prepare
      const capabilities = AGENT | OWN_LOGS;
      const fleet = (withConfig: boolean) => settingsFleet({ settings: { default: LOGS }, ...(withConfig ? { configs: [CHECKOUT], assignments: WITH_CONFIG.assignments } : {}) });
      const agent = session();

      // Act
      const first = agent.send(hello(1n, capabilities), { now: at(0), fleet: fleet(false) });
      const switched = agent.send(beat(2n, capabilities), { now: at(1), fleet: fleet(true) });

      // Assess
      expect(first.reply.connectionSettings?.ownLogs?.destinationEndpoint).toBe('https://otlp.example.com/v1/logs');
      expect(first.reply.connectionSettings?.opamp).toBeDefined();
      expect(switched.reply.connectionSettings?.opamp).toBeDefined();
      expect(switched.reply.connectionSettings?.ownLogs).toBeUndefined();
      expect(offeredHash(switched.reply)).not.toBe(offeredHash(first.reply));
    });

    it('gives each agent the document its assignment names, and the default document to the others', () => {
      // Prepare
      const fleet = settingsFleet({
        settings: { default: LOGS, canary: { ownLogs: { endpoint: 'https://canary.example.com/v1/logs' } } },
        assignments: [settingsAssignment('canary', 'canary', { selector: 'service.name=checkout' })],
      });
      const capabilities = AGENT | OWN_LOGS;

      // Act
      const checkout = decide(hello(1n, capabilities), { fleet });
      const cart = decide(hello(1n, capabilities, { agentDescription: description({ 'service.name': 'cart' }) }), { fleet });

      // Assess
      expect(checkout.reply.connectionSettings?.ownLogs?.destinationEndpoint).toBe('https://canary.example.com/v1/logs');
      expect(cart.reply.connectionSettings?.ownLogs?.destinationEndpoint).toBe('https://otlp.example.com/v1/logs');
    });

    it('offers only what the agent accepts, and nothing when it accepts nothing', () => {
      // Prepare
      const fleet = settingsFleet({ settings: { default: { ...LOGS, ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics' }, opamp: { headers: { 'x-tenant': 'acme' } } } } });

      // Act
      const logsOnly = decide(hello(1n, REPORTS_STATUS | ACCEPTS_RC | REPORTS_RC | OWN_LOGS), { fleet });
      const nothing = decide(hello(1n, REPORTS_STATUS | ACCEPTS_RC | REPORTS_RC | REPORTS_HEARTBEAT), { fleet });

      // Assess
      expect(logsOnly.reply.connectionSettings?.ownLogs).toBeDefined();
      expect(logsOnly.reply.connectionSettings?.ownMetrics).toBeUndefined();
      expect(logsOnly.reply.connectionSettings?.opamp).toBeUndefined();
      expect(nothing.reply.connectionSettings).toBeUndefined();
      expect(storedAfter(nothing).settingsOffer).toBeUndefined();
    });

    it('offers nothing, and announces no OffersConnectionSettings, when the feature is off', () => {
      // Prepare
      const options = { ...OPTS, features: { ...OPTS.features, connectionSettings: false, connectionSettingsRequests: false } };

      // Act
      const decision = decide(hello(1n, AGENT | OWN_METRICS), { options, fleet: settingsFleet({ settings: { default: LOGS } }) });

      // Assess
      expect(decision.reply.connectionSettings).toBeUndefined();
      expect(decision.reply.capabilities & BigInt(ServerCapabilities.ServerCapabilities_OffersConnectionSettings)).toBe(0n);
      expect(storedAfter(decision).settingsOffer).toBeUndefined();
    });

    it('records the offer: hash, parts, what was sent, the sequence number; and the interval asked for', () => {
      // Act
      const decision = decide(hello(7n, AGENT));

      // Assess
      const stored = storedAfter(decision);
      expect(decision.events).toContain('settings-offered');
      expect(stored.settingsOffer).toMatchObject({ hash: offeredHash(decision.reply), heartbeatSeconds: IDLE, offeredAt: T0, offeredSeq: 7n, attempts: 1, sent: ['opamp'] });
      expect(stored.settingsApplied).toMatchObject({ hash: offeredHash(decision.reply), assumed: true });
      expect(stored.heartbeatSeconds).toBe(IDLE);
    });

    it('records no interval for an agent that does not report heartbeats', () => {
      // Act
      const decision = decide(hello(1n, AGENT & ~REPORTS_HEARTBEAT), { fleet: settingsFleet({ settings: { default: { opamp: { headers: { 'x-tenant': 'acme' } } } } }) });

      // Assess
      expect(decision.reply.connectionSettings?.opamp).toBeDefined();
      expect(decision.reply.connectionSettings?.opamp?.heartbeatIntervalSeconds).toBe(0n);
      expect(storedAfter(decision).heartbeatSeconds).toBeUndefined();
    });

    it('offers everything again after a restart (counter reset) of an agent that does not report settings status', () => {
      // Prepare
      const capabilities = AGENT | OWN_LOGS;
      const fleet = settingsFleet({ settings: { default: LOGS } });
      const agent = session();
      const first = agent.send(hello(1n, capabilities), { now: at(0), fleet });
      const quiet = agent.send(beat(2n, capabilities), { now: at(1), fleet });

      // Act
      const restarted = agent.send(hello(0n, capabilities), { now: at(2), fleet });

      // Assess
      expect(quiet.reply.connectionSettings).toBeUndefined();
      expect(restarted.events).toContain('sequence-reset');
      expect(restarted.reply.connectionSettings).toEqual(first.reply.connectionSettings);
    });

    it('does not offer again after a restart of a reporting agent that reports it has the settings', () => {
      // Prepare
      const agent = session();
      const first = agent.send(hello(1n, REPORTING), { now: at(0) });
      agent.send(beat(2n, REPORTING, { connectionSettingsStatus: settingsStatus(offeredHash(first.reply), APPLIED) }), { now: at(1) });

      // Act
      const restarted = agent.send(hello(0n, REPORTING, { connectionSettingsStatus: settingsStatus(offeredHash(first.reply), APPLIED) }), { now: at(2) });

      // Assess
      expect(restarted.events).toContain('sequence-reset');
      expect(restarted.reply.connectionSettings).toBeUndefined();
    });

    it('offers nothing that poll when a certificate cannot be read just now, and everything once it can', () => {
      // Prepare
      const fleet = settingsFleet({ settings: { default: { ...LOGS, ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', certificate: 'vault' } } } });
      const capabilities = AGENT | OWN_LOGS | OWN_METRICS;
      const agent = session();

      // Act
      const deferred = agent.send(hello(1n, capabilities), { fleet, connection: connectionContext({ certificates: { vault: { error: 'throttled', temporary: true } } }) });
      const later = agent.send(beat(2n, capabilities), { now: at(1), fleet, connection: connectionContext({ certificates: { vault: resolvedCertificate('metrics') } }) });

      // Assess
      expect(deferred.reply.connectionSettings).toBeUndefined();
      expect(deferred.events).not.toContain('settings-offered');
      expect(agent.record.settingsOffer?.offeredSeq).toBe(2n);
      expect(later.reply.connectionSettings?.opamp).toBeDefined();
      expect(later.reply.connectionSettings?.ownLogs).toBeDefined();
      expect(later.reply.connectionSettings?.ownMetrics?.certificate).toBeDefined();
    });

    it('offers the parts it can when one is withheld for good (a certificate that does not exist)', () => {
      // Prepare
      const fleet = settingsFleet({ settings: { default: { ...LOGS, ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', certificate: 'missing' } } } });

      // Act
      const decision = decide(hello(1n, AGENT | OWN_LOGS | OWN_METRICS), { fleet });

      // Assess
      expect(decision.reply.connectionSettings?.ownLogs).toBeDefined();
      expect(decision.reply.connectionSettings?.opamp).toBeDefined();
      expect(decision.reply.connectionSettings?.ownMetrics).toBeUndefined();
    });
  });

  describe('credentials', () => {
    /** An agent that takes no connection settings: only the token name can change its record. */
    const PLAIN = REPORTS_STATUS | REPORTS_HEARTBEAT;

    it('records the name of the token the agent presented, and writes again only when it changes', () => {
      // Prepare
      const agent = session();
      agent.send(hello(1n, PLAIN), { now: at(0) });

      // Act
      const same = agent.send(beat(2n, PLAIN), { now: at(1) });
      const unnamed = agent.send(beat(3n, PLAIN), { now: at(2), connection: connectionContext({ presented: { header: 'Basic eA==' } }) });
      const rotated = agent.send(beat(4n, PLAIN), { now: at(3), connection: connectionContext({ presented: { header: 'Bearer other', tokenName: 'fleet-b' } }) });

      // Assess
      expect(same.records).toEqual([]);
      expect(unnamed.records).toEqual([]);
      expect(rotated.records).toHaveLength(1);
      expect(agent.record.tokenName).toBe('fleet-b');
    });

    it('stores a certificate issued for the agent, says so, and offers it in the opamp part with the presented credential', () => {
      // Prepare
      const issued = issuedCertificate('0b');

      // Act
      const decision = decide(hello(1n, AGENT), { issuedCertificate: issued });

      // Assess
      expect(decision.events).toContain('certificate-issued');
      expect(storedAfter(decision).issuedCertificate).toEqual(issued);
      const opamp = decision.reply.connectionSettings?.opamp;
      expect(new TextDecoder().decode(opamp?.certificate?.cert)).toBe(issued.certPem);
      expect(new TextDecoder().decode(opamp?.certificate?.caCert)).toBe(issued.caPem);
      expect(opamp?.certificate?.privateKey).toHaveLength(0);
      expect(headerEntries(opamp?.headers)).toEqual([['Authorization', PRESENTED.header]]);
    });

    it('offers a newly issued certificate to an agent that already has its settings', () => {
      // Prepare
      const agent = session();
      agent.send(hello(1n, AGENT), { now: at(0) });
      const issued = issuedCertificate('0c');

      // Act
      const decision = agent.send(beat(2n, AGENT), { now: at(1), issuedCertificate: issued });
      const again = agent.send(beat(3n, AGENT), { now: at(2), issuedCertificate: issued });

      // Assess
      expect(decision.events).toContain('certificate-issued');
      expect(new TextDecoder().decode(decision.reply.connectionSettings?.opamp?.certificate?.cert)).toBe(issued.certPem);
      expect(again.events).not.toContain('certificate-issued');
      expect(again.reply.connectionSettings).toBeUndefined();
    });
  });

  describe('expected poll interval', () => {
    it('lowers the sequence floor to the interval the server asked for', () => {
      // Prepare: stored seq 1 at T0; the agent was asked to poll every 5 s (the configured floor is 15 s).
      const known = storedAfter(decide(hello(1n, AGENT)));
      const asked = { ...known, heartbeatSeconds: 5 };

      // Act: two unwritten heartbeats in 12 s are possible at 5 s, not at 15 s.
      const steered = decide(beat(4n, AGENT), { record: asked, now: T0 + 12 * SECOND });
      const unsteered = decide(beat(4n, AGENT), { record: { ...known, heartbeatSeconds: undefined } as AgentRecord, now: T0 + 12 * SECOND });

      // Assess
      expect(steered.events).not.toContain('sequence-gap');
      expect(unsteered.events).toContain('sequence-gap');
    });

    it('keeps the configured floor when the asked interval is longer', () => {
      // Prepare
      const known = storedAfter(decide(hello(1n, AGENT)));

      // Act: two unwritten heartbeats in 31 s fit a 15 s floor, not a 60 s one.
      const decision = decide(beat(4n, AGENT), { record: { ...known, heartbeatSeconds: 60 }, now: T0 + 31 * SECOND });

      // Assess
      expect(decision.events).not.toContain('sequence-gap');
    });

    it('judges liveness by the interval the server asked the agent for', () => {
      // Prepare: the document asks for a poll every 10 minutes.
      const policy = { presenceWindowMs: 5 * MINUTE, expectedPollIntervalMs: 30 * SECOND, missedPollsBeforeStale: 3 };
      const steered = storedAfter(decide(hello(1n, AGENT), { fleet: settingsFleet({ settings: { default: { opamp: { heartbeat: { idleSeconds: 600 } } } } }) }));
      const unsteered = storedAfter(decide(hello(1n, AGENT & ~ACCEPTS_OPAMP)));
      const silence = 5 * MINUTE + 3 * 30 * SECOND + 1;

      // Act
      const steeredLiveness = deriveLiveness(steered, T0 + silence, policy);
      const unsteeredLiveness = deriveLiveness(unsteered, T0 + silence, policy);
      const muchLater = deriveLiveness(steered, T0 + 5 * MINUTE + 3 * 600 * SECOND + 1, policy);

      // Assess
      expect(steered.heartbeatSeconds).toBe(600);
      expect(steeredLiveness).toBe('online');
      expect(unsteeredLiveness).toBe('stale');
      expect(muchLater).toBe('stale');
    });
  });
});
