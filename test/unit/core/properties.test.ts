import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentCapabilities, CommandType, ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { selectorAttributes } from '../../../functions/core/attributes.js';
import { agentHas } from '../../../functions/core/capabilities.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import { gateReply } from '../../../functions/core/reply-gates.js';
import type { AgentAcceptance } from '../../../functions/core/reply-gates.js';
import { sectionHash } from '../../../functions/core/sections.js';
import type { SectionContent, SectionKind } from '../../../functions/core/sections.js';
import { COLLECTOR_CAPS, SDK_CAPS, agentToServer, caps, description, effectiveConfig, fullReport, health, heartbeat } from '../../support/messages.js';
import {
  AGENT_UID,
  ASSIGNED_UID_TEXT,
  DEFINED_SERVER_CAPABILITY_BITS,
  OPTIONS,
  ALL_FEATURES,
  REPORT_AVAILABLE_COMPONENTS,
  REPORT_FULL_STATE,
  REQUEST_INSTANCE_UID,
  SECOND,
  MINUTE,
  T0,
  asksFullState,
  availableComponents,
  connectionSettingsStatus,
  customCapabilities,
  digestOf,
  packageStatuses,
  poll,
  remoteConfigStatus,
  storedAfter,
} from './fixtures.js';

const A = AgentCapabilities;

// ---------------------------------------------------------------------------
// Status compression
// ---------------------------------------------------------------------------

/** What an agent knows about itself at one moment; small domains so that values repeat often. */
interface AgentStatus {
  capabilities: bigint;
  description: { service: string; version: string; host: string };
  health: { healthy: boolean; failing: string[] };
  config: string;
  remoteConfig: { hash: string; status: number; error: string };
  packages: { versions: Array<[string, string]>; offered: string };
  components: { hash: string; list: Array<[string, string]> };
  custom: string[];
  connection: { hash: string; status: number; error: string };
}

const PARTS = ['description', 'health', 'config', 'remoteConfig', 'packages', 'components', 'custom', 'connection'] as const;
type Part = (typeof PARTS)[number];
type PartFlags = Record<Part, boolean>;

const statusArb: fc.Arbitrary<AgentStatus> = fc.record({
  capabilities: fc.constantFrom(
    COLLECTOR_CAPS,
    COLLECTOR_CAPS | caps('AgentCapabilities_ReportsPackageStatuses', 'AgentCapabilities_ReportsAvailableComponents'),
    SDK_CAPS | caps('AgentCapabilities_ReportsHealth'),
  ),
  description: fc.record({
    service: fc.constantFrom('checkout', 'cart'),
    version: fc.constantFrom('1.0', '1.1'),
    host: fc.constantFrom('host-1', 'host-2'),
  }),
  health: fc.record({ healthy: fc.boolean(), failing: fc.subarray(['pipeline:traces', 'pipeline:logs', 'pipeline:metrics']) }),
  config: fc.constantFrom('receivers: {}\n', 'receivers: {otlp: {}}\n'),
  remoteConfig: fc.record({ hash: fc.constantFrom('', 'cfg-1'), status: fc.integer({ min: 0, max: 3 }), error: fc.constantFrom('', 'bad') }),
  packages: fc.record({
    versions: fc.constantFrom<Array<[string, string]>>(
      [['otelcol', '1']],
      [
        ['otelcol', '2'],
        ['addon', '1'],
      ],
    ),
    offered: fc.constantFrom('all-1', 'all-2'),
  }),
  components: fc.constantFrom(
    {
      hash: 'comp-1',
      list: [
        ['otlpreceiver', '1'],
        ['batchprocessor', '1'],
      ] as Array<[string, string]>,
    },
    { hash: 'comp-2', list: [['otlpreceiver', '2']] as Array<[string, string]> },
  ),
  custom: fc.constantFrom([], ['io.example.ping'], ['io.example.ping', 'io.example.pong']),
  connection: fc.record({ hash: fc.constantFrom('cs-1', 'cs-2'), status: fc.integer({ min: 0, max: 3 }), error: fc.constantFrom('', 'refused') }),
});

const reversedPairs = <T>(pairs: T[], reverse: boolean) => (reverse ? [...pairs].reverse() : pairs);

/** The AgentToServer for a status, with the parts in `include`; `reverse` sends map entries in reverse order. */
function statusMessage(status: AgentStatus, seq: bigint, include: PartFlags, reverse: PartFlags): AgentToServer {
  const components = Object.fromEntries(reversedPairs(['pipeline:traces', 'pipeline:logs', 'pipeline:metrics'], reverse.health).map((name) => [name, !status.health.failing.includes(name)]));
  const files = Object.fromEntries(
    reversedPairs<[string, string]>(
      [
        ['collector.yaml', status.config],
        ['extra.yaml', 'x: 1\n'],
      ],
      reverse.config,
    ),
  );
  return agentToServer({
    instanceUid: AGENT_UID,
    sequenceNum: seq,
    capabilities: status.capabilities,
    ...(include.description
      ? {
          agentDescription: description({ 'service.name': status.description.service, 'service.version': status.description.version }, { 'host.name': status.description.host }),
        }
      : {}),
    ...(include.health ? { health: health(status.health.healthy, components) } : {}),
    ...(include.config ? { effectiveConfig: effectiveConfig(files) } : {}),
    ...(include.remoteConfig ? { remoteConfigStatus: remoteConfigStatus(status.remoteConfig.hash, status.remoteConfig.status, status.remoteConfig.error) } : {}),
    ...(include.packages ? { packageStatuses: packageStatuses(reversedPairs(status.packages.versions, reverse.packages), status.packages.offered) } : {}),
    ...(include.components ? { availableComponents: availableComponents(status.components.hash, reversedPairs(status.components.list, reverse.components)) } : {}),
    ...(include.custom ? { customCapabilities: customCapabilities(...status.custom) } : {}),
    ...(include.connection ? { connectionSettingsStatus: connectionSettingsStatus(status.connection.hash, status.connection.status, status.connection.error) } : {}),
  });
}

interface Outcome {
  record: AgentRecord;
  lastWritten: Partial<Record<SectionKind, SectionContent>>;
  askedFullState: boolean;
}

/** Feeds the messages to decidePoll one after another, each reading the record the previous one wrote. */
function drive(messages: Array<{ message: AgentToServer; now: number }>): Outcome {
  let record: AgentRecord | undefined;
  const lastWritten: Outcome['lastWritten'] = {};
  let askedFullState = false;
  for (const { message, now } of messages) {
    const decision = decidePoll({
      record: record && structuredClone(record),
      message,
      messageDigest: digestOf(message),
      now,
      newInstanceUid: () => {
        throw new Error('no uid was requested');
      },
      // Random statuses may flip identities back and forth, which is what
      // duplicate-uid detection looks for; this property is about compression.
      options: { ...OPTIONS, duplicateWindowMs: 0 },
    });
    askedFullState ||= asksFullState(decision.reply);
    for (const { content } of decision.sections) lastWritten[content.kind] = content;
    const write = decision.records.at(-1);
    if (write) {
      expect(write.expectedVersion).toBe(record?.version ?? 0);
      record = structuredClone(write.record);
    }
  }
  if (!record) throw new Error('nothing was ever written');
  return { record, lastWritten, askedFullState };
}

function storedStatus(record: AgentRecord) {
  return {
    sections: record.sections,
    attributes: record.attributes,
    healthy: record.healthy,
    remoteConfigStatus: record.remoteConfigStatus,
    connectionSettingsStatus: record.connectionSettingsStatus,
    capabilities: record.capabilities,
    customCapabilities: record.customCapabilities,
    availableComponentsHash: record.availableComponentsHash,
    serverProvidedAllPackagesHash: record.serverProvidedAllPackagesHash,
  };
}

const allParts = (value: boolean) => Object.fromEntries(PARTS.map((p) => [p, value])) as PartFlags;
const partFlagsArb = fc.record(Object.fromEntries(PARTS.map((p) => [p, fc.boolean()])) as Record<Part, fc.Arbitrary<boolean>>);

const stepArb = fc.record({
  status: statusArb,
  // At least the minimum poll interval between messages: a message that changes
  // nothing is not written, and the gap allowance counts one unwritten message
  // per minimum interval (see functions/core/sequence.ts).
  elapsed: fc.integer({ min: 15 * SECOND, max: 8 * MINUTE }),
  omit: partFlagsArb,
  reverse: partFlagsArb,
});

describe('status compression (property)', () => {
  it('rebuilds the same stored state as sending every section every time', () => {
    fc.assert(
      fc.property(statusArb, fc.array(stepArb, { minLength: 1, maxLength: 8 }), (first, steps) => {
        // Prepare: one full report, then statuses sent in full, or with unchanged parts randomly left out.
        const full: Array<{ message: AgentToServer; now: number }> = [];
        const compressed: Array<{ message: AgentToServer; now: number }> = [];
        full.push({ message: statusMessage(first, 0n, allParts(true), allParts(false)), now: T0 });
        compressed.push({ message: statusMessage(first, 0n, allParts(true), allParts(false)), now: T0 });
        let previous = first;
        let now = T0;
        steps.forEach(({ status, elapsed, omit, reverse }, i) => {
          now += elapsed;
          const seq = BigInt(i + 1);
          const unchanged = (p: Part) => JSON.stringify(status[p]) === JSON.stringify(previous[p]);
          const include = Object.fromEntries(PARTS.map((p) => [p, !(unchanged(p) && omit[p])])) as PartFlags;
          const reorder = Object.fromEntries(PARTS.map((p) => [p, unchanged(p) && reverse[p]])) as PartFlags;
          full.push({ message: statusMessage(status, seq, allParts(true), allParts(false)), now });
          compressed.push({ message: statusMessage(status, seq, include, reorder), now });
          previous = status;
        });

        // Act
        const a = drive(full);
        const b = drive(compressed);

        // Assess
        expect(storedStatus(b.record)).toEqual(storedStatus(a.record));
        expect(b.lastWritten).toEqual(a.lastWritten);
        expect(b.askedFullState).toBe(false);
        // And both hold the agent's final status.
        const last = statusMessage(previous, 0n, allParts(true), allParts(false));
        expect(b.record.attributes).toEqual(selectorAttributes(last.agentDescription!));
        expect(b.record.healthy).toBe(previous.health.healthy);
        expect(b.record.sections.description).toBe(sectionHash('description', last.agentDescription!));
        expect(b.record.sections.health).toBe(sectionHash('health', last.health!));
        expect(b.record.sections.effectiveConfig).toBe(sectionHash('effectiveConfig', last.effectiveConfig!));
        expect(b.record.sections.packageStatuses).toBe(sectionHash('packageStatuses', last.packageStatuses!));
        expect(b.record.capabilities).toBe(previous.capabilities);
        expect(b.record.customCapabilities ?? []).toEqual(previous.custom);
        expect(b.record.remoteConfigStatus).toEqual({
          hash: Buffer.from(previous.remoteConfig.hash).toString('base64'),
          status: previous.remoteConfig.status,
          errorMessage: previous.remoteConfig.error,
        });
      }),
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------------------
// Capability gating
// ---------------------------------------------------------------------------

const has = (acc: AgentAcceptance, c: AgentCapabilities) => agentHas(acc.capabilities, c);

/** Everything in a reply that the agent's capabilities exclude. */
function excluded(reply: ServerToAgent, acc: AgentAcceptance): string[] {
  const found: string[] = [];
  if (reply.remoteConfig && !has(acc, A.AgentCapabilities_AcceptsRemoteConfig)) found.push('remote_config');
  if (reply.packagesAvailable && !has(acc, A.AgentCapabilities_AcceptsPackages)) found.push('packages_available');
  const cs = reply.connectionSettings;
  if (cs?.opamp && !has(acc, A.AgentCapabilities_AcceptsOpAMPConnectionSettings)) found.push('connection_settings.opamp');
  if (cs?.ownMetrics && !has(acc, A.AgentCapabilities_ReportsOwnMetrics)) found.push('connection_settings.own_metrics');
  if (cs?.ownTraces && !has(acc, A.AgentCapabilities_ReportsOwnTraces)) found.push('connection_settings.own_traces');
  if (cs?.ownLogs && !has(acc, A.AgentCapabilities_ReportsOwnLogs)) found.push('connection_settings.own_logs');
  if (cs && Object.keys(cs.otherConnections).length > 0 && !has(acc, A.AgentCapabilities_AcceptsOtherConnectionSettings)) {
    found.push('connection_settings.other_connections');
  }
  if ((reply.flags & REPORT_AVAILABLE_COMPONENTS) !== 0n && !has(acc, A.AgentCapabilities_ReportsAvailableComponents)) {
    found.push('ReportAvailableComponents');
  }
  if (reply.customMessage && !(acc.customCapabilities ?? []).includes(reply.customMessage.capability)) found.push('custom_message');
  if (reply.command) {
    if (!has(acc, A.AgentCapabilities_AcceptsRestartCommand)) found.push('command');
    if (
      reply.remoteConfig ||
      reply.connectionSettings ||
      reply.packagesAvailable ||
      reply.agentIdentification ||
      reply.customCapabilities ||
      reply.customMessage ||
      reply.errorResponse ||
      reply.flags !== 0n
    ) {
      found.push('command not alone');
    }
  }
  return found;
}

const bytes = (text: string) => new TextEncoder().encode(text);

const offerArb = fc.record({
  remoteConfig: fc.boolean(),
  packages: fc.boolean(),
  opamp: fc.boolean(),
  ownMetrics: fc.boolean(),
  ownTraces: fc.boolean(),
  ownLogs: fc.boolean(),
  other: fc.boolean(),
  command: fc.boolean(),
  customMessage: fc.option(fc.constantFrom('io.a', 'io.b'), { nil: undefined }),
  fullState: fc.boolean(),
  components: fc.boolean(),
  identification: fc.boolean(),
});
type Offer = typeof offerArb extends fc.Arbitrary<infer T> ? T : never;

function replyFor(offer: Offer): ServerToAgent {
  const anyConnection = offer.opamp || offer.ownMetrics || offer.ownTraces || offer.ownLogs || offer.other;
  return create(ServerToAgentSchema, {
    instanceUid: AGENT_UID,
    capabilities: DEFINED_SERVER_CAPABILITY_BITS,
    flags: (offer.fullState ? REPORT_FULL_STATE : 0n) | (offer.components ? REPORT_AVAILABLE_COMPONENTS : 0n),
    ...(offer.remoteConfig ? { remoteConfig: { configHash: bytes('cfg'), config: { configMap: { '': { body: bytes('a: 1') } } } } } : {}),
    ...(offer.packages ? { packagesAvailable: { allPackagesHash: bytes('all'), packages: { p: { version: '1' } } } } : {}),
    ...(anyConnection
      ? {
          connectionSettings: {
            hash: bytes('cs'),
            ...(offer.opamp ? { opamp: { destinationEndpoint: 'https://opamp' } } : {}),
            ...(offer.ownMetrics ? { ownMetrics: { destinationEndpoint: 'https://m' } } : {}),
            ...(offer.ownTraces ? { ownTraces: { destinationEndpoint: 'https://t' } } : {}),
            ...(offer.ownLogs ? { ownLogs: { destinationEndpoint: 'https://l' } } : {}),
            ...(offer.other ? { otherConnections: { kafka: { destinationEndpoint: 'kafka:9092' } } } : {}),
          },
        }
      : {}),
    ...(offer.command ? { command: { type: CommandType.CommandType_Restart } } : {}),
    ...(offer.customMessage ? { customMessage: { capability: offer.customMessage, type: 't', data: bytes('d') } } : {}),
    ...(offer.identification ? { agentIdentification: { newInstanceUid: bytes('0123456789abcdef') } } : {}),
  });
}

/** Agent capability bitmasks: defined bits and some undefined ones above them. */
const agentCapsArb = fc.bigInt({ min: 0n, max: (1n << 20n) - 1n });
const customCapsArb = fc.option(fc.subarray(['io.a', 'io.b', 'io.c']), { nil: undefined });

describe('capability gating (property)', () => {
  it('gateReply leaves nothing the capabilities exclude and keeps everything they allow', () => {
    fc.assert(
      fc.property(agentCapsArb, customCapsArb, offerArb, (capabilities, customCapabilities, offer) => {
        // Prepare
        const acc: AgentAcceptance = { capabilities, customCapabilities };
        const reply = replyFor(offer);

        // Act
        const out = gateReply(reply, acc);

        // Assess: nothing excluded...
        expect(excluded(out, acc)).toEqual([]);
        // ...and nothing allowed removed (a command, when sent, travels alone).
        const alone = offer.command && has(acc, A.AgentCapabilities_AcceptsRestartCommand);
        const keeps = (offered: boolean, allowed: boolean) => offered && allowed && !alone;
        expect(out.command !== undefined).toBe(alone);
        expect(out.remoteConfig !== undefined).toBe(keeps(offer.remoteConfig, has(acc, A.AgentCapabilities_AcceptsRemoteConfig)));
        expect(out.packagesAvailable !== undefined).toBe(keeps(offer.packages, has(acc, A.AgentCapabilities_AcceptsPackages)));
        expect(out.connectionSettings?.opamp !== undefined).toBe(keeps(offer.opamp, has(acc, A.AgentCapabilities_AcceptsOpAMPConnectionSettings)));
        expect(out.connectionSettings?.ownMetrics !== undefined).toBe(keeps(offer.ownMetrics, has(acc, A.AgentCapabilities_ReportsOwnMetrics)));
        expect(out.connectionSettings?.ownTraces !== undefined).toBe(keeps(offer.ownTraces, has(acc, A.AgentCapabilities_ReportsOwnTraces)));
        expect(out.connectionSettings?.ownLogs !== undefined).toBe(keeps(offer.ownLogs, has(acc, A.AgentCapabilities_ReportsOwnLogs)));
        expect(Object.keys(out.connectionSettings?.otherConnections ?? {}).length > 0).toBe(keeps(offer.other, has(acc, A.AgentCapabilities_AcceptsOtherConnectionSettings)));
        expect(out.customMessage !== undefined).toBe(keeps(offer.customMessage !== undefined, (customCapabilities ?? []).includes(offer.customMessage ?? '')));
        expect(out.agentIdentification !== undefined).toBe(keeps(offer.identification, true));
        expect((out.flags & REPORT_FULL_STATE) !== 0n).toBe(keeps(offer.fullState, true));
        expect((out.flags & REPORT_AVAILABLE_COMPONENTS) !== 0n).toBe(keeps(offer.components, has(acc, A.AgentCapabilities_ReportsAvailableComponents)));
        expect(out.instanceUid).toEqual(AGENT_UID);
        expect(out.capabilities).toBe(DEFINED_SERVER_CAPABILITY_BITS);
      }),
      { numRuns: 300 },
    );
  });

  const pollArb = fc.record({
    known: fc.boolean(),
    storedCaps: agentCapsArb,
    storedCustom: fc.subarray(['io.a', 'io.b']),
    messageCaps: fc.oneof(fc.constant(0n), agentCapsArb),
    messageCustom: fc.option(fc.subarray(['io.a', 'io.b']), { nil: undefined }),
    fullReport: fc.boolean(),
    seqOffset: fc.constantFrom(-5n, 0n, 1n, 3n, 500n),
    elapsed: fc.integer({ min: 0, max: 20 * MINUTE }),
    requestUid: fc.boolean(),
    allFeatures: fc.boolean(),
  });

  it("decidePoll's replies never carry what the agent's capabilities exclude", () => {
    fc.assert(
      fc.property(pollArb, (p) => {
        // Prepare
        const stored = p.known ? knownWith(p.storedCaps, p.storedCustom) : undefined;
        const seq = 10n + p.seqOffset;
        const message = p.fullReport ? fullReport(AGENT_UID, seq, { capabilities: p.messageCaps }) : heartbeat(AGENT_UID, seq, p.messageCaps);
        if (p.messageCustom) message.customCapabilities = customCapabilities(...p.messageCustom);
        if (p.requestUid) message.flags |= REQUEST_INSTANCE_UID;
        const acc: AgentAcceptance = {
          capabilities: p.messageCaps !== 0n ? p.messageCaps : (stored?.capabilities ?? 0n),
          customCapabilities: p.messageCustom ?? stored?.customCapabilities,
        };

        // Act
        const { reply } = poll(message, {
          record: stored,
          now: T0 + p.elapsed,
          options: p.allFeatures ? ALL_FEATURES : OPTIONS,
          newInstanceUid: () => ASSIGNED_UID_TEXT,
        });

        // Assess
        expect(excluded(reply, acc)).toEqual([]);
        expect(reply.instanceUid).toEqual(AGENT_UID);
        expect(reply.capabilities & 0x1n).toBe(0x1n);
        expect(reply.capabilities & ~DEFINED_SERVER_CAPABILITY_BITS).toBe(0n);
      }),
      { numRuns: 150 },
    );
  });
});

/** A known agent (sequence 10, written at T0) with the given capabilities and custom capabilities. */
function knownWith(capabilities: bigint, custom: string[]): AgentRecord {
  const first = fullReport(AGENT_UID, 10n, { capabilities: capabilities === 0n ? COLLECTOR_CAPS : capabilities });
  if (custom.length > 0) first.customCapabilities = customCapabilities(...custom);
  return storedAfter(poll(first, { now: T0 }));
}
