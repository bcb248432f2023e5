import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { describe, expect, it, vi } from 'vitest';
import {
  AgentCapabilities,
  AvailableComponentsSchema,
  ComponentHealthSchema,
  EffectiveConfigSchema,
  PackageStatusesSchema,
  ConnectionSettingsStatuses,
  RemoteConfigStatuses,
} from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import { ProtocolError } from '../../../functions/core/errors.js';
import { sectionHash, sectionId } from '../../../functions/core/sections.js';
import type { SectionKind } from '../../../functions/core/sections.js';
import { COLLECTOR_CAPS, description, effectiveConfig, fullReport, health } from '../../support/messages.js';
import {
  AGENT_UID,
  AGENT_UID_TEXT,
  ALL_FEATURES,
  ASSIGNED_UID,
  ASSIGNED_UID_TEXT,
  DEFINED_SERVER_CAPABILITY_BITS,
  MINUTE,
  OPTIONS,
  SECOND,
  T0,
  asksFullState,
  availableComponents,
  connectionSettingsStatus,
  customCapabilities,
  digestOf,
  hb,
  knownAgent,
  msg,
  packageStatuses,
  poll,
  remoteConfigStatus,
  requestsUid,
  storedAfter,
} from './fixtures.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');
const kinds = (decision: PollDecision) => decision.sections.map((s) => s.content.kind).sort();
const assignUid = () => ASSIGNED_UID_TEXT;
const differ = <S extends DescMessage>(schema: S, a: MessageShape<S>, b: MessageShape<S>) => Buffer.compare(toBinary(schema, a), toBinary(schema, b)) !== 0;

describe('decidePoll', () => {
  describe('every successful reply', () => {
    const scenarios: Array<[string, () => { request: AgentToServer; decision: PollDecision }]> = [
      [
        'unknown agent, heartbeat',
        () => {
          const request = hb(0n);
          return { request, decision: poll(request) };
        },
      ],
      [
        'unknown agent, full report',
        () => {
          const request = fullReport(AGENT_UID, 0n);
          return { request, decision: poll(request) };
        },
      ],
      [
        'consecutive heartbeat',
        () => {
          const request = hb(11n);
          return { request, decision: poll(request, { record: knownAgent(), now: T0 + 30 * SECOND }) };
        },
      ],
      [
        'retried message',
        () => {
          const request = fullReport(AGENT_UID, 10n);
          return { request, decision: poll(request, { record: knownAgent(), now: T0 + SECOND }) };
        },
      ],
      [
        'sequence gap',
        () => {
          const request = hb(500n);
          return { request, decision: poll(request, { record: knownAgent(), now: T0 + 30 * SECOND }) };
        },
      ],
      [
        'sequence reset',
        () => {
          const request = hb(0n);
          return { request, decision: poll(request, { record: knownAgent(), now: T0 + 30 * SECOND }) };
        },
      ],
      [
        'agent disconnect',
        () => {
          const request = msg(11n, { agentDisconnect: {} });
          return { request, decision: poll(request, { record: knownAgent(), now: T0 + 30 * SECOND }) };
        },
      ],
      [
        'RequestInstanceUid',
        () => {
          const request = requestsUid(fullReport(AGENT_UID, 0n));
          return { request, decision: poll(request, { newInstanceUid: assignUid }) };
        },
      ],
      [
        'retried RequestInstanceUid',
        () => {
          const request = requestsUid(fullReport(AGENT_UID, 0n));
          const redirect = poll(request, { newInstanceUid: assignUid }).records[0]!.record;
          return { request, decision: poll(request, { record: redirect, now: T0 + SECOND }) };
        },
      ],
      [
        'every server feature enabled',
        () => {
          const request = hb(11n);
          return { request, decision: poll(request, { record: knownAgent(), options: ALL_FEATURES }) };
        },
      ],
    ];

    it.each(scenarios)('echoes instance_uid and announces AcceptsStatus with no undefined bits: %s', (_name, scenario) => {
      // Prepare / Act
      const { request, decision } = scenario();

      // Assess
      const { reply } = decision;
      expect(reply.instanceUid).toEqual(request.instanceUid);
      expect(reply.capabilities & 0x1n).toBe(0x1n);
      expect(reply.capabilities & ~DEFINED_SERVER_CAPABILITY_BITS).toBe(0n);
      expect(reply.errorResponse).toBeUndefined();
    });
  });

  describe('unknown agent', () => {
    it('asks a heartbeat-only first message for the full state and creates the record', () => {
      // Prepare
      const request = hb(7n);

      // Act
      const decision = poll(request, { now: T0 });

      // Assess
      expect(asksFullState(decision.reply)).toBe(true);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.expectedVersion).toBe(0);
      expect(decision.records[0]!.record).toMatchObject({
        instanceUid: AGENT_UID_TEXT,
        version: 1,
        sequenceNum: 7n,
        capabilities: COLLECTOR_CAPS,
        firstSeenAt: T0,
        lastSeenAt: T0,
        fullStateRequestedAt: T0,
        fullStateRequestedSeq: 7n,
        lastMessageDigest: digestOf(request),
      });
      expect(decision.events).toEqual(expect.arrayContaining(['new-agent', 'full-state-requested']));
    });

    it('does not ask a first full report for the full state and stores its sections', () => {
      // Prepare
      const request = fullReport(AGENT_UID, 0n);

      // Act
      const decision = poll(request, { now: T0 });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.expectedVersion).toBe(0);
      const record = decision.records[0]!.record;
      expect(record.fullStateRequestedAt).toBeUndefined();
      expect(record.healthy).toBe(true);
      expect(record.attributes).toEqual({
        'service.name': 'io.opentelemetry.collector',
        'service.version': '0.140.0',
        'os.type': 'linux',
        'host.name': 'host-1',
      });
      expect(kinds(decision)).toEqual(['description', 'effectiveConfig', 'health']);
      for (const { instanceUid, id, content } of decision.sections) {
        expect(instanceUid).toBe(AGENT_UID_TEXT);
        expect(record.sections[content.kind]).toBe(content.hash);
        // Without a writeId, the stamp is the version the record is written with.
        expect(id).toBe(sectionId(content.hash, 'v1'));
        expect(record.sectionIds[content.kind]).toBe(id);
      }
      expect(record.supersededSections).toBeUndefined();
      expect(decision.sectionDeletes).toEqual([]);
    });

    it('asks for the full state when the first report lacks a section the capabilities promise', () => {
      // Prepare: ReportsPackageStatuses promised, package_statuses missing.
      const request = fullReport(AGENT_UID, 0n, {
        capabilities: COLLECTOR_CAPS | BigInt(AgentCapabilities.AgentCapabilities_ReportsPackageStatuses),
      });

      // Act
      const decision = poll(request);

      // Assess
      expect(asksFullState(decision.reply)).toBe(true);
    });
  });

  describe('a consecutive heartbeat that changes nothing', () => {
    it.each([
      ['just inside the refresh window', 5 * MINUTE - 1, 0],
      ['exactly at the refresh window', 5 * MINUTE, 1],
      ['well after the refresh window', 20 * MINUTE, 1],
    ])('writes %s: %i ms after last-seen → %i record writes', (_name, elapsed, writes) => {
      // Prepare
      const stored = knownAgent(10n, T0);
      const request = hb(11n);
      const now = T0 + elapsed;

      // Act
      const decision = poll(request, { record: stored, now });

      // Assess
      expect(decision.records).toHaveLength(writes);
      expect(decision.sections).toEqual([]);
      expect(asksFullState(decision.reply)).toBe(false);
      if (writes === 1) {
        expect(decision.records[0]!.expectedVersion).toBe(stored.version);
        expect(decision.records[0]!.record).toEqual({
          ...stored,
          version: stored.version + 1,
          sequenceNum: 11n,
          lastMessageDigest: digestOf(request),
          lastSeenAt: now,
          expiresAt: Math.floor((now + OPTIONS.recordRetentionMs) / 1000),
        });
      }
    });
  });

  describe('status changes', () => {
    const now = T0 + 30 * SECOND;
    const cases: Array<{
      name: string;
      message: () => AgentToServer;
      sections: SectionKind[];
      check: (record: AgentRecord) => void;
    }> = [
      {
        name: 'health',
        message: () => msg(11n, { health: health(false, { 'pipeline:traces': false }, 'exporter down') }),
        sections: ['health'],
        check: (r) => expect(r.healthy).toBe(false),
      },
      {
        name: 'description',
        message: () =>
          msg(11n, {
            agentDescription: description({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.141.0' }, { 'os.type': 'linux', 'host.name': 'host-1' }),
          }),
        sections: ['description'],
        check: (r) => expect(r.attributes['service.version']).toBe('0.141.0'),
      },
      {
        name: 'effective config',
        message: () => msg(11n, { effectiveConfig: effectiveConfig({ '': 'receivers: {otlp: {}}\n' }) }),
        sections: ['effectiveConfig'],
        check: () => {},
      },
      {
        name: 'capabilities',
        message: () => msg(11n, { capabilities: COLLECTOR_CAPS | BigInt(AgentCapabilities.AgentCapabilities_AcceptsRestartCommand) }),
        sections: [],
        check: (r) => expect(r.capabilities).toBe(COLLECTOR_CAPS | BigInt(AgentCapabilities.AgentCapabilities_AcceptsRestartCommand)),
      },
      {
        name: 'remote config status',
        message: () => msg(11n, { remoteConfigStatus: remoteConfigStatus('cfg-1', RemoteConfigStatuses.RemoteConfigStatuses_APPLIED) }),
        sections: [],
        check: (r) => expect(r.remoteConfigStatus).toEqual({ hash: b64('cfg-1'), status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, errorMessage: '' }),
      },
      {
        name: 'connection settings status',
        message: () =>
          msg(11n, {
            connectionSettingsStatus: connectionSettingsStatus('cs-1', ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED, 'bad cert'),
          }),
        sections: [],
        check: (r) =>
          expect(r.connectionSettingsStatus).toEqual({
            hash: b64('cs-1'),
            status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_FAILED,
            errorMessage: 'bad cert',
          }),
      },
      {
        name: 'custom capabilities',
        message: () => msg(11n, { customCapabilities: customCapabilities('io.example.ping') }),
        sections: [],
        check: (r) => expect(r.customCapabilities).toEqual(['io.example.ping']),
      },
      {
        name: 'package statuses',
        message: () => msg(11n, { packageStatuses: packageStatuses([['otelcol', '0.140.0']], 'all-7') }),
        sections: ['packageStatuses'],
        check: (r) => expect(r.serverProvidedAllPackagesHash).toBe(b64('all-7')),
      },
      {
        name: 'available components (hash only)',
        message: () => msg(11n, { availableComponents: availableComponents('comp-1') }),
        sections: [],
        check: (r) => expect(r.availableComponentsHash).toBe(b64url('comp-1')),
      },
      {
        name: 'available components (with the map)',
        message: () => msg(11n, { availableComponents: availableComponents('comp-1', [['otlpreceiver', '0.140.0']]) }),
        sections: ['availableComponents'],
        check: (r) => {
          expect(r.availableComponentsHash).toBe(b64url('comp-1'));
          expect(r.sections.availableComponents).toBe(b64url('comp-1'));
        },
      },
      {
        name: 'disconnect',
        message: () => msg(11n, { agentDisconnect: {} }),
        sections: [],
        check: (r) => expect(r.disconnectedAt).toBe(now),
      },
    ];

    it.each(cases)('writes the record once when $name changes', ({ message, sections, check }) => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(message(), { record: stored, now });

      // Assess
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.expectedVersion).toBe(stored.version);
      const record = decision.records[0]!.record;
      expect(record.version).toBe(stored.version + 1);
      expect(record.sequenceNum).toBe(11n);
      expect(kinds(decision)).toEqual([...sections].sort());
      for (const kind of sections) {
        const written = decision.sections.find((s) => s.content.kind === kind)!;
        expect(written.instanceUid).toBe(AGENT_UID_TEXT);
        expect(record.sections[kind]).toBe(written.content.hash);
        expect(record.sections[kind]).not.toBe(stored.sections[kind]);
        expect(written.id).toBe(sectionId(written.content.hash, `v${record.version}`));
        expect(record.sectionIds[kind]).toBe(written.id);
      }
      // What the new sections replace waits on the record for deletion; nothing was pending before.
      const replaced = sections.flatMap((kind) => (stored.sectionIds[kind] ? [{ kind, id: stored.sectionIds[kind] }] : []));
      expect(record.supersededSections ?? []).toEqual(replaced);
      expect(decision.sectionDeletes).toEqual([]);
      check(record);
      expect(decision.events).toContain('status-changed');
    });

    const reordered: Array<[string, () => { first: AgentToServer; again: AgentToServer; wireDiffers: boolean }]> = [
      [
        'component health map',
        () => {
          const [a, b] = [health(true, { 'pipeline:traces': true, 'pipeline:logs': false }), health(true, { 'pipeline:logs': false, 'pipeline:traces': true })];
          return { first: fullReport(AGENT_UID, 10n, { health: a }), again: msg(11n, { health: b }), wireDiffers: differ(ComponentHealthSchema, a, b) };
        },
      ],
      [
        'effective config map',
        () => {
          const [a, b] = [effectiveConfig({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 2\n' }), effectiveConfig({ 'b.yaml': 'b: 2\n', 'a.yaml': 'a: 1\n' })];
          return { first: fullReport(AGENT_UID, 10n, { effectiveConfig: a }), again: msg(11n, { effectiveConfig: b }), wireDiffers: differ(EffectiveConfigSchema, a, b) };
        },
      ],
      [
        'package statuses map',
        () => {
          const [a, b] = [
            packageStatuses([
              ['a', '1'],
              ['b', '2'],
            ]),
            packageStatuses([
              ['b', '2'],
              ['a', '1'],
            ]),
          ];
          return { first: fullReport(AGENT_UID, 10n, { packageStatuses: a }), again: msg(11n, { packageStatuses: b }), wireDiffers: differ(PackageStatusesSchema, a, b) };
        },
      ],
      [
        'available components map',
        () => {
          const [a, b] = [
            availableComponents('comp-1', [
              ['a', '1'],
              ['b', '2'],
            ]),
            availableComponents('comp-1', [
              ['b', '2'],
              ['a', '1'],
            ]),
          ];
          return { first: fullReport(AGENT_UID, 10n, { availableComponents: a }), again: msg(11n, { availableComponents: b }), wireDiffers: differ(AvailableComponentsSchema, a, b) };
        },
      ],
    ];

    it.each(reordered)('writes nothing for the same %s sent with its entries in another order', (_name, build) => {
      // Prepare
      const { first, again, wireDiffers } = build();
      const stored = storedAfter(poll(first, { now: T0 }));
      expect(wireDiffers).toBe(true); // the premise: only the order of map entries differs on the wire

      // Act
      const decision = poll(again, { record: stored, now: T0 + 30 * SECOND });

      // Assess
      expect(decision.sections).toEqual([]);
      expect(decision.records).toEqual([]);
    });
  });

  describe('status compression', () => {
    const now = T0 + 30 * SECOND;

    it('keeps every stored section and status the message leaves out', () => {
      // Prepare
      const stored = knownAgent(10n, T0, {
        remoteConfigStatus: remoteConfigStatus('cfg-1', RemoteConfigStatuses.RemoteConfigStatuses_APPLIED),
        customCapabilities: customCapabilities('io.example.ping'),
        packageStatuses: packageStatuses([['a', '1']]),
        availableComponents: availableComponents('comp-1', [['a', '1']]),
      });
      const request = msg(11n, { health: health(false) });

      // Act
      const record = storedAfter(poll(request, { record: stored, now }));

      // Assess
      const { health: storedHealth, ...otherSections } = stored.sections;
      expect(record.sections).toMatchObject(otherSections);
      expect(record.sections.health).not.toBe(storedHealth);
      expect(record.attributes).toEqual(stored.attributes);
      expect(record.remoteConfigStatus).toEqual(stored.remoteConfigStatus);
      expect(record.customCapabilities).toEqual(stored.customCapabilities);
      expect(record.availableComponentsHash).toBe(stored.availableComponentsHash);
      expect(record.serverProvidedAllPackagesHash).toBe(stored.serverProvidedAllPackagesHash);
    });

    it('replaces the description as a whole: attributes it no longer carries are gone', () => {
      // Prepare
      const stored = knownAgent(10n, T0);
      const request = msg(11n, { agentDescription: description({ 'service.name': 'checkout' }) });

      // Act
      const record = storedAfter(poll(request, { record: stored, now }));

      // Assess
      expect(record.attributes).toEqual({ 'service.name': 'checkout' });
    });

    it('replaces the health tree as a whole: the section written is exactly the new health', () => {
      // Prepare
      const stored = knownAgent(10n, T0, { health: health(true, { a: true, b: true }) });
      const newHealth = health(false, { a: false });

      // Act
      const decision = poll(msg(11n, { health: newHealth }), { record: stored, now });

      // Assess
      const written = decision.sections.find((s) => s.content.kind === 'health')!.content;
      expect(written.hash).toBe(sectionHash('health', newHealth));
      expect(Object.keys(fromBinary(ComponentHealthSchema, written.bytes).componentHealthMap)).toEqual(['a']);
      expect(storedAfter(decision).sections.health).toBe(written.hash);
    });

    it('replaces the remote config status as a whole: an error message it no longer carries is gone', () => {
      // Prepare
      const stored = knownAgent(10n, T0, {
        remoteConfigStatus: remoteConfigStatus('cfg-1', RemoteConfigStatuses.RemoteConfigStatuses_FAILED, 'parse error'),
      });
      const request = msg(11n, { remoteConfigStatus: remoteConfigStatus('cfg-2', RemoteConfigStatuses.RemoteConfigStatuses_APPLIED) });

      // Act
      const record = storedAfter(poll(request, { record: stored, now }));

      // Assess
      expect(record.remoteConfigStatus).toEqual({ hash: b64('cfg-2'), status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, errorMessage: '' });
    });
  });

  describe('section item ids', () => {
    it('stamps each section with the writeId of the poll that writes it, so that two polls never write the same item', () => {
      // Prepare: two polls read the same record and carry the same new health.
      const stored = knownAgent(10n, T0);
      const message = msg(11n, { health: health(false, { 'pipeline:traces': false }) });
      const decide = (writeId: string) =>
        decidePoll({
          record: structuredClone(stored),
          message,
          messageDigest: digestOf(message),
          now: T0 + 30 * SECOND,
          newInstanceUid: assignUid,
          options: OPTIONS,
          writeId,
        });

      // Act
      const a = decide('poll-a');
      const b = decide('poll-b');

      // Assess: the same content, under two ids.
      const hash = sectionHash('health', message.health!);
      expect(a.sections.map((s) => s.id)).toEqual([sectionId(hash, 'poll-a')]);
      expect(b.sections.map((s) => s.id)).toEqual([sectionId(hash, 'poll-b')]);
      expect(a.records[0]!.record.sectionIds.health).toBe(sectionId(hash, 'poll-a'));
      expect(a.records[0]!.record.sections.health).toBe(hash);
    });

    it('deletes the sections a committed record superseded with the next section write, and not before', () => {
      // Prepare: the health changed once, so the committed record lists the first health as superseded.
      const first = knownAgent(10n, T0);
      const changed = poll(msg(11n, { health: health(false) }), { record: first, now: T0 + 30 * SECOND });
      const committed = storedAfter(changed);
      expect(changed.sectionDeletes).toEqual([]);
      expect(committed.supersededSections).toEqual([{ kind: 'health', id: first.sectionIds.health }]);

      // Act 1: a poll that writes no section.
      const quiet = poll(msg(12n, { capabilities: COLLECTOR_CAPS | BigInt(AgentCapabilities.AgentCapabilities_ReportsOwnLogs) }), {
        record: committed,
        now: T0 + 60 * SECOND,
      });

      // Assess 1: nothing deleted; the record keeps the pending deletion.
      expect(quiet.sections).toEqual([]);
      expect(quiet.sectionDeletes).toEqual([]);
      expect(storedAfter(quiet).supersededSections).toEqual(committed.supersededSections);

      // Act 2: a poll that writes a section of another kind.
      const afterQuiet = storedAfter(quiet);
      const next = poll(msg(13n, { effectiveConfig: effectiveConfig({ 'c.yaml': 'x: 1\n' }) }), { record: afterQuiet, now: T0 + 90 * SECOND });

      // Assess 2: the pending health is deleted with this write; the replaced config is now pending.
      expect(next.sectionDeletes).toEqual([{ instanceUid: AGENT_UID_TEXT, kind: 'health', id: first.sectionIds.health }]);
      expect(storedAfter(next).supersededSections).toEqual([{ kind: 'effectiveConfig', id: first.sectionIds.effectiveConfig }]);
    });
  });

  describe('sequence numbers', () => {
    it('answers a retried first message like the original, ReportFullState included, and changes nothing', () => {
      // Prepare
      const request = hb(5n);
      const stored = storedAfter(poll(request, { now: T0 }));
      expect(stored.fullStateRequestedSeq).toBe(5n);

      // Act
      const decision = poll(hb(5n), { record: stored, now: T0 + 2 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(true);
      expect(decision.records).toEqual([]);
      expect(decision.sections).toEqual([]);
      expect(decision.events).toContain('duplicate');
    });

    it('answers a retried message without ReportFullState when the original reply did not ask', () => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(fullReport(AGENT_UID, 10n), { record: stored, now: T0 + 2 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
      expect(decision.records).toEqual([]);
      expect(decision.sections).toEqual([]);
    });

    it('only refreshes last-seen when a retry arrives after the refresh window', () => {
      // Prepare
      const stored = knownAgent(10n, T0);
      const now = T0 + 6 * MINUTE;

      // Act
      const decision = poll(fullReport(AGENT_UID, 10n), { record: stored, now });

      // Assess
      expect(decision.sections).toEqual([]);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.record).toEqual({
        ...stored,
        version: stored.version + 1,
        lastSeenAt: now,
        expiresAt: Math.floor((now + OPTIONS.recordRetentionMs) / 1000),
      });
    });

    it('asks for the full state once after a gap beyond the allowance, and writes the new baseline', () => {
      // Prepare: 4 messages skipped in 30 s; at most 2 unwritten heartbeats fit.
      const stored = knownAgent(10n, T0);
      const now = T0 + 30 * SECOND;

      // Act
      const decision = poll(hb(15n), { record: stored, now });

      // Assess
      expect(asksFullState(decision.reply)).toBe(true);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.record).toMatchObject({ sequenceNum: 15n, fullStateRequestedAt: now, fullStateRequestedSeq: 15n });
      expect(decision.events).toEqual(expect.arrayContaining(['sequence-gap', 'full-state-requested']));
    });

    it('does not ask again on the message after the gap', () => {
      // Prepare
      const afterGap = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

      // Act
      const decision = poll(hb(16n), { record: afterGap, now: T0 + 45 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
    });

    it('writes the answer to a full-state request, so that it becomes the baseline, even when it changes nothing', () => {
      // Prepare
      const afterGap = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));
      const answer = fullReport(AGENT_UID, 16n);

      // Act
      const decision = poll(answer, { record: afterGap, now: T0 + 31 * SECOND });

      // Assess
      expect(decision.sections).toEqual([]);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.record.sequenceNum).toBe(16n);
    });

    it('does not ask again on a second gap within fullStateRetryMs', () => {
      // Prepare
      const afterGap = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

      // Act
      const decision = poll(hb(400n), { record: afterGap, now: T0 + 30 * SECOND + OPTIONS.fullStateRetryMs - 1 });

      // Assess
      expect(decision.events).toContain('sequence-gap');
      expect(asksFullState(decision.reply)).toBe(false);
    });

    it('asks again on a gap once fullStateRetryMs has passed', () => {
      // Prepare
      const afterGap = storedAfter(poll(hb(15n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

      // Act
      const decision = poll(hb(400n), { record: afterGap, now: T0 + 30 * SECOND + OPTIONS.fullStateRetryMs });

      // Assess
      expect(asksFullState(decision.reply)).toBe(true);
    });

    it('does not ask for the full state when the message after a gap is a full report', () => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(fullReport(AGENT_UID, 500n), { record: stored, now: T0 + 30 * SECOND });

      // Assess
      expect(decision.events).toContain('sequence-gap');
      expect(asksFullState(decision.reply)).toBe(false);
    });

    it('does not ask the heartbeat after a gap carried by a full report for the full state', () => {
      // Prepare: the gap arrives with a full report that changes nothing; the server's view is complete.
      const stored = knownAgent(10n, T0);
      const gap = poll(fullReport(AGENT_UID, 50n), { record: stored, now: T0 + 30 * SECOND });
      const afterGap = gap.records.length > 0 ? storedAfter(gap) : stored;

      // Act: the next message follows the full report directly.
      const decision = poll(hb(51n), { record: afterGap, now: T0 + 45 * SECOND });

      // Assess: asking now would only make the agent upload the report it has just sent.
      expect(asksFullState(decision.reply)).toBe(false);
    });

    it.each([
      ['a lower sequence number', hb(0n), undefined],
      ['the same sequence number with another body', hb(10n), 'another-digest'],
    ])('treats %s as a reset: asks for the full state and rebaselines the record', (_name, request, digest) => {
      // Prepare
      const stored = knownAgent(10n, T0);
      const now = T0 + 30 * SECOND;

      // Act
      const decision = poll(request, { record: stored, now, ...(digest ? { digest } : {}) });

      // Assess
      expect(decision.events).toContain('sequence-reset');
      expect(asksFullState(decision.reply)).toBe(true);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.record.sequenceNum).toBe(request.sequenceNum);
      expect(decision.records[0]!.expectedVersion).toBe(stored.version);
    });

    it('rebaselines a reset carried by a full report without asking for the full state', () => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(fullReport(AGENT_UID, 0n), { record: stored, now: T0 + 30 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.record.sequenceNum).toBe(0n);
    });

    it('continues after a reset without asking again', () => {
      // Prepare
      const afterReset = storedAfter(poll(hb(0n), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

      // Act
      const decision = poll(hb(1n), { record: afterReset, now: T0 + 45 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
    });

    it('accepts a jump within the allowance without a flag or a write', () => {
      // Prepare: 2 messages skipped in 45 s; 3 unwritten heartbeats fit.
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(hb(13n), { record: stored, now: T0 + 45 * SECOND });

      // Assess
      expect(asksFullState(decision.reply)).toBe(false);
      expect(decision.records).toEqual([]);
      expect(decision.events).not.toContain('sequence-gap');
    });
  });

  describe('capabilities', () => {
    it('keeps the stored capabilities when a message carries 0', () => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(msg(11n, { capabilities: 0n, health: health(false) }), { record: stored, now: T0 + 30 * SECOND });

      // Assess
      expect(storedAfter(decision).capabilities).toBe(COLLECTOR_CAPS);
    });

    it('does not count a capabilities 0 heartbeat as a change', () => {
      // Prepare
      const stored = knownAgent(10n, T0);

      // Act
      const decision = poll(hb(11n, 0n), { record: stored, now: T0 + 30 * SECOND });

      // Assess
      expect(decision.records).toEqual([]);
    });
  });

  describe('agent_disconnect', () => {
    it('sets disconnectedAt', () => {
      // Prepare
      const now = T0 + 30 * SECOND;

      // Act
      const decision = poll(msg(11n, { agentDisconnect: {} }), { record: knownAgent(10n, T0), now });

      // Assess
      expect(storedAfter(decision).disconnectedAt).toBe(now);
      expect(decision.events).toContain('disconnected');
    });

    it('is cleared by the next message', () => {
      // Prepare
      const disconnected = storedAfter(poll(msg(11n, { agentDisconnect: {} }), { record: knownAgent(10n, T0), now: T0 + 30 * SECOND }));

      // Act
      const decision = poll(hb(12n), { record: disconnected, now: T0 + 45 * SECOND });

      // Assess
      expect(decision.records).toHaveLength(1);
      expect(storedAfter(decision).disconnectedAt).toBeUndefined();
    });
  });

  describe('RequestInstanceUid', () => {
    it('replies with the new uid from newInstanceUid() and still echoes the request uid', () => {
      // Prepare
      const newInstanceUid = vi.fn(assignUid);

      // Act
      const { reply } = poll(requestsUid(fullReport(AGENT_UID, 0n)), { newInstanceUid });

      // Assess
      expect(newInstanceUid).toHaveBeenCalledTimes(1);
      expect(reply.agentIdentification?.newInstanceUid).toHaveLength(16);
      expect(reply.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
      expect(reply.instanceUid).toEqual(AGENT_UID);
    });

    it('writes the redirect record first, then the new uid record carrying the reported state', () => {
      // Prepare
      const now = T0;

      // Act
      const decision = poll(requestsUid(fullReport(AGENT_UID, 3n)), { newInstanceUid: assignUid, now });

      // Assess
      expect(decision.records).toHaveLength(2);
      const [redirect, moved] = decision.records;
      expect(redirect!.expectedVersion).toBe(0);
      expect(redirect!.record).toMatchObject({ instanceUid: AGENT_UID_TEXT, movedTo: ASSIGNED_UID_TEXT });
      expect(redirect!.record.expiresAt).toBe(Math.floor((now + OPTIONS.redirectRetentionMs) / 1000));
      expect(moved!.expectedVersion).toBe(0);
      expect(moved!.record.movedTo).toBeUndefined();
      expect(moved!.record).toMatchObject({
        instanceUid: ASSIGNED_UID_TEXT,
        version: 1,
        sequenceNum: 3n,
        capabilities: COLLECTOR_CAPS,
        healthy: true,
        attributes: { 'service.name': 'io.opentelemetry.collector', 'host.name': 'host-1' },
      });
      expect(Object.keys(moved!.record.sections).sort()).toEqual(['description', 'effectiveConfig', 'health']);
      expect(decision.events).toContain('instance-uid-assigned');
    });

    it('stores the reported sections under the new uid', () => {
      // Act
      const decision = poll(requestsUid(fullReport(AGENT_UID, 0n)), { newInstanceUid: assignUid });

      // Assess
      expect(kinds(decision)).toEqual(['description', 'effectiveConfig', 'health']);
      expect(decision.sections.map((s) => s.instanceUid)).toEqual([ASSIGNED_UID_TEXT, ASSIGNED_UID_TEXT, ASSIGNED_UID_TEXT]);
    });

    it('answers a retry that meets the redirect record with the same new uid and writes nothing', () => {
      // Prepare
      const request = requestsUid(fullReport(AGENT_UID, 0n));
      const redirect = poll(request, { newInstanceUid: assignUid }).records[0]!.record;
      const newInstanceUid = vi.fn(() => '01890a5f-0000-7000-8000-000000000001');

      // Act
      const decision = poll(request, { record: redirect, now: T0 + 2 * SECOND, newInstanceUid });

      // Assess
      expect(newInstanceUid).not.toHaveBeenCalled();
      expect(decision.reply.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
      expect(decision.reply.instanceUid).toEqual(AGENT_UID);
      expect(decision.records).toEqual([]);
      expect(decision.sections).toEqual([]);
    });

    it('repeats the original ReportFullState flag when a retry meets the redirect record', () => {
      // Prepare: an incomplete first message asking for a uid; its reply asked for the full state.
      const request = requestsUid(hb(0n));
      const original = poll(request, { newInstanceUid: assignUid });
      expect(asksFullState(original.reply)).toBe(true);
      const redirect = original.records[0]!.record;

      // Act: the reply was lost; the agent retries the same body.
      const retry = poll(request, { record: redirect, now: T0 + 2 * SECOND });

      // Assess: the agent only ever sees this reply, and the new uid's record continues the
      // sequence, so no later gap will ask for the state the server is missing.
      expect(retry.reply.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
      expect(asksFullState(retry.reply)).toBe(true);
    });

    it('copies the temporary uid sections the message did not replace', () => {
      // Prepare
      const stored = knownAgent(10n, T0);
      const request = requestsUid(msg(11n, { health: health(false) }));

      // Act
      const decision = poll(request, { record: stored, now: T0 + 30 * SECOND, newInstanceUid: assignUid });

      // Assess
      expect(decision.records[0]!.expectedVersion).toBe(stored.version);
      expect(decision.records[1]!.expectedVersion).toBe(0);
      expect(decision.copySections?.from).toBe(AGENT_UID_TEXT);
      expect(decision.copySections?.to).toBe(ASSIGNED_UID_TEXT);
      const copied = [...(decision.copySections?.sections ?? [])].sort((a, b) => a.kind.localeCompare(b.kind));
      expect(copied).toEqual([
        { kind: 'description', id: stored.sectionIds.description },
        { kind: 'effectiveConfig', id: stored.sectionIds.effectiveConfig },
      ]);
      expect(decision.sections).toEqual([{ instanceUid: ASSIGNED_UID_TEXT, id: expect.any(String), content: expect.objectContaining({ kind: 'health' }) }]);
      // The new uid's record points at the copies (same ids) and at the health it just wrote.
      const moved = decision.records[1]!.record;
      expect(moved.sectionIds).toEqual({
        description: stored.sectionIds.description,
        effectiveConfig: stored.sectionIds.effectiveConfig,
        health: decision.sections[0]!.id,
      });
    });

    it('treats a message without the flag that meets a redirect record as a new agent', () => {
      // Prepare
      const redirect = poll(requestsUid(fullReport(AGENT_UID, 0n)), { newInstanceUid: assignUid }).records[0]!.record;

      // Act
      const decision = poll(hb(1n), { record: redirect, now: T0 + 30 * SECOND });

      // Assess
      expect(decision.events).toContain('new-agent');
      expect(asksFullState(decision.reply)).toBe(true);
      expect(decision.records).toHaveLength(1);
      expect(decision.records[0]!.expectedVersion).toBe(redirect.version);
      expect(decision.records[0]!.record.movedTo).toBeUndefined();
    });
  });

  describe('instance uid validation', () => {
    it.each([0, 1, 15, 17, 32])('rejects a %i-byte instance_uid with ProtocolError invalid-instance-uid', (length) => {
      // Prepare
      const request = hb(1n);
      request.instanceUid = new Uint8Array(length).fill(7);

      // Act
      let thrown: unknown;
      try {
        poll(request);
      } catch (error) {
        thrown = error;
      }

      // Assess
      expect(thrown).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).reason).toBe('invalid-instance-uid');
      expect((thrown as ProtocolError).instanceUid).toEqual(length > 0 ? request.instanceUid : undefined);
    });
  });
});
