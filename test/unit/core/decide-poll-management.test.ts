import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  AgentToServerSchema,
  CommandType,
  CustomMessageSchema,
  PackageStatusEnum,
  PackageStatusesSchema,
  PackageType,
  ServerToAgentCommandSchema,
  ServerToAgentSchema,
} from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { INBOX_LIMITS } from '../../../functions/core/agent-commands.js';
import type { QueuedMessage } from '../../../functions/core/agent-commands.js';
import { serverCapabilities } from '../../../functions/core/capabilities.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import { MAX_DUPLICATE_EVENTS } from '../../../functions/core/duplicates.js';
import type { DuplicateEvent } from '../../../functions/core/duplicates.js';
import type { FleetState } from '../../../functions/core/fleet.js';
import { allPackagesHash, packageHash } from '../../../functions/core/packages.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { description, fullReport, health } from '../../support/messages.js';
import {
  AGENT_UID,
  AGENT_UID_TEXT,
  ASSIGNED_UID,
  ASSIGNED_UID_TEXT,
  MINUTE,
  OPTIONS,
  REPORT_AVAILABLE_COMPONENTS,
  SECOND,
  T0,
  asksFullState,
  availableComponents,
  customCapabilities,
  digestOf,
  requestsUid,
  storedAfter,
} from './fixtures.js';
import {
  ACCEPTS_PACKAGES,
  ACCEPTS_RESTART,
  PACKAGES_POLICY,
  PKG_CAPS,
  REPORTS_COMPONENTS,
  REPORTS_PACKAGE_STATUSES,
  packageFleet,
  packagesAssignment,
  pkg,
  sha256Hex,
  statusesReport,
} from './package-fixtures.js';

const OPTS: CoreOptions = { ...OPTIONS, packages: PACKAGES_POLICY, serverCustomCapabilities: [], duplicateWindowMs: 10 * MINUTE };
const RESEND = PACKAGES_POLICY.resendAfterMs;
const WINDOW = OPTS.duplicateWindowMs;

const AGENT_140 = pkg('', '0.140.0', { content: 'collector 0.140.0' });
const AGENT_141 = pkg('', '0.141.0', { content: 'collector 0.141.0', signature: 'sig of 0.141.0' });
const EXT = pkg('ext', '1.0.0', { content: 'extension 1.0.0', signature: 'sig of ext' });

const FLEET: FleetState = packageFleet(
  [AGENT_140, AGENT_141, EXT],
  [
    packagesAssignment('default', { '': '0.140.0' }),
    packagesAssignment('checkout', { '': '0.141.0', ext: '1.0.0' }, { selector: 'service.name=checkout' }),
    // A configuration-only assignment: it decides nothing about packages.
    { name: 'cart-config', config: 'cart', selector: parseSelector('service.name=cart'), priority: 100 },
  ],
);
const SET_DEFAULT = allPackagesHash([AGENT_140]);
const SET_CHECKOUT = allPackagesHash([AGENT_141, EXT]);

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

interface Step {
  record?: AgentRecord | undefined;
  now?: number;
  /** null: no fleet state at all. */
  fleet?: FleetState | null;
  options?: CoreOptions;
  newUid?: string;
}

function decide(message: AgentToServer, step: Step = {}): PollDecision {
  return decidePoll({
    record: step.record === undefined ? undefined : structuredClone(step.record),
    message,
    messageDigest: digestOf(message),
    now: step.now ?? T0,
    newInstanceUid: () => {
      if (step.newUid === undefined) throw new Error('no new uid expected');
      return step.newUid;
    },
    options: step.options ?? OPTS,
    fleet: step.fleet === null ? undefined : (step.fleet ?? FLEET),
  });
}

/** An agent talking to the server: each send decides against what the previous sends stored. */
function session(start?: AgentRecord) {
  let record = start;
  return {
    get record() {
      return record;
    },
    set record(r: AgentRecord | undefined) {
      record = r;
    },
    send(message: AgentToServer, step: Omit<Step, 'record'> = {}): PollDecision {
      const decision = decide(message, { ...step, record });
      if (decision.records.length > 0) record = storedAfter(decision);
      return decision;
    },
  };
}

/** A full report (for PKG_CAPS: description and package statuses) from a `service` agent. */
function report(seq: bigint, init: MessageInitShape<typeof AgentToServerSchema> & { service?: string } = {}): AgentToServer {
  const { service = 'checkout', ...overrides } = init;
  return fullReport(AGENT_UID, seq, {
    capabilities: PKG_CAPS,
    agentDescription: description({ 'service.name': service }),
    health: health(true),
    effectiveConfig: undefined,
    remoteConfigStatus: undefined,
    packageStatuses: create(PackageStatusesSchema, {}),
    ...overrides,
  });
}

function beat(seq: bigint, init: MessageInitShape<typeof AgentToServerSchema> = {}): AgentToServer {
  return create(AgentToServerSchema, { instanceUid: AGENT_UID, sequenceNum: seq, capabilities: PKG_CAPS, ...init });
}

describe('decidePoll: packages', () => {
  describe('an offer', () => {
    it('lists every package of the set with type, version, hashes and signature, leaves the URLs empty, and names the set', () => {
      // Act
      const decision = decide(report(1n));

      // Assess
      const offered = decision.reply.packagesAvailable!;
      expect(offered.allPackagesHash).toEqual(bytes(SET_CHECKOUT));
      expect(offered.allPackagesHash).toHaveLength(32);
      expect(Object.keys(offered.packages).sort()).toEqual(['', 'ext']);
      expect(offered.packages['']).toMatchObject({ type: PackageType.PackageType_TopLevel, version: '0.141.0', hash: bytes(packageHash(AGENT_141)) });
      expect(offered.packages.ext).toMatchObject({ type: PackageType.PackageType_Addon, version: '1.0.0', hash: bytes(packageHash(EXT)) });
      for (const [meta, content, signature] of [
        [AGENT_141, 'collector 0.141.0', 'sig of 0.141.0'],
        [EXT, 'extension 1.0.0', 'sig of ext'],
      ] as const) {
        const entry = offered.packages[meta.name]!;
        expect(entry.hash).toHaveLength(32);
        expect(Buffer.from(entry.file!.contentHash).toString('hex')).toBe(sha256Hex(content));
        expect(Buffer.from(entry.file!.signature).toString()).toBe(signature);
        expect(entry.file!.downloadUrl).toBe('');
      }
      expect(decision.attachPackages?.hash).toBe(SET_CHECKOUT);
      expect(decision.attachPackages?.packages.map((p) => p.objectKey).sort()).toEqual([AGENT_141.objectKey, EXT.objectKey].sort());
      expect(decision.events).toContain('packages-offered');
      expect(storedAfter(decision).packagesOffer).toEqual({ hash: SET_CHECKOUT, offeredAt: T0, offeredSeq: 1n, attempts: 1 });
    });

    it('carries no signature for an unsigned package', () => {
      // Act
      const decision = decide(report(1n, { service: 'payments' }));

      // Assess
      const entry = decision.reply.packagesAvailable?.packages[''];
      expect(entry?.version).toBe('0.140.0');
      expect(entry?.file?.signature).toHaveLength(0);
      expect(entry?.file?.contentHash).toEqual(new Uint8Array(Buffer.from(sha256Hex('collector 0.140.0'), 'hex')));
    });

    it.each<[string, string, string, string[]]>([
      ['a selector assignment with packages beats the default', 'checkout', SET_CHECKOUT, ['', 'ext']],
      ['the default applies when no selector matches', 'payments', SET_DEFAULT, ['']],
      ['the default applies when the matching assignment names no packages', 'cart', SET_DEFAULT, ['']],
    ])('targets: %s', (_name, service, hash, names) => {
      // Act
      const decision = decide(report(1n, { service }));

      // Assess
      expect(decision.attachPackages?.hash).toBe(hash);
      expect(Object.keys(decision.reply.packagesAvailable?.packages ?? {}).sort()).toEqual(names);
    });

    it.each<[string, () => PollDecision]>([
      ['the agent does not accept packages', () => decide(report(1n, { capabilities: PKG_CAPS & ~ACCEPTS_PACKAGES }))],
      ['the server has packages switched off', () => decide(report(1n), { options: { ...OPTS, features: { ...OPTS.features, packages: false } } })],
      ['there is no fleet state', () => decide(report(1n), { fleet: null })],
      [
        'one version of the set is not in the bucket (never a partial set)',
        () =>
          decide(report(1n), {
            fleet: packageFleet([AGENT_141], [packagesAssignment('default', { '': '0.141.0', ext: '1.0.0' })]),
          }),
      ],
      [
        'one version of the set was recorded with an error',
        () =>
          decide(report(1n), {
            fleet: packageFleet([AGENT_141, { ...EXT, error: 'two files' }], [packagesAssignment('default', { '': '0.141.0', ext: '1.0.0' })]),
          }),
      ],
      ['the agent reports the desired set as the one it was given', () => decide(report(1n, { packageStatuses: statusesReport(SET_CHECKOUT, { '': { has: '0.141.0' }, ext: { has: '1.0.0' } }) }))],
      ['no assignment names packages', () => decide(report(1n), { fleet: packageFleet([AGENT_140], []) })],
    ])('is not made when %s', (_name, act) => {
      // Act
      const decision = act();

      // Assess
      expect(decision.reply.packagesAvailable).toBeUndefined();
      expect(decision.attachPackages).toBeUndefined();
      expect(decision.events).not.toContain('packages-offered');
      expect(storedAfter(decision).packagesOffer).toBeUndefined();
    });
  });

  describe('repeating an offer', () => {
    it('is not done after the agent reports InstallFailed for the offered set, however long', () => {
      // Prepare
      const agent = session();
      agent.send(report(1n), { now: T0 });
      agent.send(
        beat(2n, {
          packageStatuses: statusesReport(SET_CHECKOUT, {
            '': { has: '0.140.0', offered: '0.141.0', status: PackageStatusEnum.PackageStatusEnum_InstallFailed, error: 'checksum mismatch' },
            ext: { has: '', offered: '1.0.0', status: PackageStatusEnum.PackageStatusEnum_InstallFailed },
          }),
        }),
        { now: T0 + 30 * SECOND },
      );

      // Act
      const later = [RESEND, 60 * MINUTE, 24 * 60 * MINUTE, 30 * 24 * 60 * MINUTE].map((after, i) => agent.send(beat(3n + BigInt(i)), { now: T0 + after }));

      // Assess
      for (const decision of later) expect(decision.reply.packagesAvailable).toBeUndefined();
      expect(agent.record?.packages?.['']).toEqual({ hasVersion: '0.140.0', offeredVersion: '0.141.0', status: 'InstallFailed', error: 'checksum mismatch' });
      expect(agent.record?.serverProvidedAllPackagesHash).toBe(SET_CHECKOUT);
      expect(agent.record?.packagesOffer?.attempts).toBe(1);
    });

    it('repeats an unacknowledged offer only after resendAfterMs, and at most maxAttempts times', () => {
      // Prepare
      const agent = session();
      agent.send(report(1n), { now: T0 });
      const schedule: Array<[number, boolean]> = [
        [T0 + RESEND - 1, false],
        [T0 + RESEND, true],
        [T0 + RESEND + RESEND - 1, false],
        [T0 + 2 * RESEND, true],
        [T0 + 3 * RESEND, false],
        [T0 + 10 * RESEND, false],
      ];

      // Act
      const offered = schedule.map(([now], i) => agent.send(beat(2n + BigInt(i)), { now }).reply.packagesAvailable !== undefined);

      // Assess
      expect(offered).toEqual(schedule.map(([, expected]) => expected));
      expect(agent.record?.packagesOffer).toMatchObject({ hash: SET_CHECKOUT, attempts: PACKAGES_POLICY.maxAttempts, offeredAt: T0 + 2 * RESEND });
    });

    it('offers once to an agent without ReportsPackageStatuses', () => {
      // Prepare
      const capabilities = PKG_CAPS & ~REPORTS_PACKAGE_STATUSES;
      const agent = session();

      // Act
      const first = agent.send(report(1n, { capabilities, packageStatuses: undefined }), { now: T0 });
      const later = [RESEND, 10 * RESEND].map((after, i) => agent.send(beat(2n + BigInt(i), { capabilities }), { now: T0 + after }));

      // Assess
      expect(first.reply.packagesAvailable).toBeDefined();
      for (const decision of later) expect(decision.reply.packagesAvailable).toBeUndefined();
    });

    it('offers a changed set at once, with a fresh attempt count, even after the old set ran out of attempts', () => {
      // Prepare
      const agent = session();
      agent.send(report(1n), { now: T0 });
      agent.record = { ...agent.record!, packagesOffer: { ...agent.record!.packagesOffer!, attempts: PACKAGES_POLICY.maxAttempts } };
      const changed = packageFleet([AGENT_140, AGENT_141, EXT], [packagesAssignment('default', { '': '0.141.0' })]);

      // Act
      const decision = agent.send(beat(2n), { now: T0 + SECOND, fleet: changed });

      // Assess
      expect(decision.attachPackages?.hash).toBe(allPackagesHash([AGENT_141]));
      expect(agent.record?.packagesOffer).toEqual({ hash: allPackagesHash([AGENT_141]), offeredAt: T0 + SECOND, offeredSeq: 2n, attempts: 1 });
    });

    it('offers an older version when it is assigned (downgrade)', () => {
      // Prepare: the agent installed the checkout set and says so.
      const agent = session();
      agent.send(report(1n), { now: T0 });
      agent.send(beat(2n, { packageStatuses: statusesReport(SET_CHECKOUT, { '': { has: '0.141.0', offered: '0.141.0' }, ext: { has: '1.0.0', offered: '1.0.0' } }) }), { now: T0 + MINUTE });
      const quiet = agent.send(beat(3n), { now: T0 + 2 * MINUTE });
      const downgraded = packageFleet([AGENT_140, AGENT_141, EXT], [packagesAssignment('checkout', { '': '0.140.0', ext: '1.0.0' }, { selector: 'service.name=checkout' })]);

      // Act
      const decision = agent.send(beat(4n), { now: T0 + 3 * MINUTE, fleet: downgraded });

      // Assess
      expect(quiet.reply.packagesAvailable).toBeUndefined();
      expect(decision.reply.packagesAvailable?.packages['']?.version).toBe('0.140.0');
      expect(decision.reply.packagesAvailable?.allPackagesHash).toEqual(bytes(allPackagesHash([AGENT_140, EXT])));
    });

    it('carries the offer again in the reply to a retried duplicate of the message whose reply offered it (that reply was lost)', () => {
      // Prepare: an agent that never reports package statuses has no other way to get the set.
      const capabilities = PKG_CAPS & ~REPORTS_PACKAGE_STATUSES;
      const first = report(1n, { capabilities, packageStatuses: undefined });
      const stored = storedAfter(decide(first, { now: T0 }));

      // Act
      const retry = decide(first, { record: stored, now: T0 + SECOND });

      // Assess
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.packagesAvailable?.allPackagesHash).toEqual(bytes(SET_CHECKOUT));
      expect(retry.attachPackages?.hash).toBe(SET_CHECKOUT);
    });
  });
});

describe('decidePoll: restart command', () => {
  const CAPS = PKG_CAPS | ACCEPTS_RESTART;
  const pending = { type: 'restart' as const, id: 'cmd-1', queuedAt: T0, expiresAt: T0 + 10 * MINUTE };

  /** A known agent with a restart queued; its first report got no offers (no fleet yet). */
  function queued(init: MessageInitShape<typeof AgentToServerSchema> = {}): AgentRecord {
    const known = storedAfter(decide(report(1n, { capabilities: CAPS, ...init }), { fleet: null, now: T0 }));
    return { ...known, pendingCommand: { ...pending } };
  }

  it('is delivered in a reply with only the instance uid, capabilities and the command, and recorded as delivered', () => {
    // Prepare: this poll would otherwise carry a package offer, a custom message, server capabilities and a components request.
    const outbox: QueuedMessage[] = [{ id: 'm1', capability: 'io.pause', type: 't', data: 'ZA==', queuedAt: T0, expiresAt: T0 + MINUTE * 60 }];
    const record = { ...queued({ customCapabilities: customCapabilities('io.pause') }), outbox };
    const options = { ...OPTS, serverCustomCapabilities: ['io.server'] };
    const message = beat(2n, { capabilities: CAPS | REPORTS_COMPONENTS, availableComponents: availableComponents('comp-1') });

    // Act
    const decision = decide(message, { record, now: T0 + MINUTE, options });

    // Assess
    expect(decision.reply).toEqual(
      create(ServerToAgentSchema, {
        instanceUid: AGENT_UID,
        capabilities: serverCapabilities(options.features),
        command: create(ServerToAgentCommandSchema, { type: CommandType.CommandType_Restart }),
      }),
    );
    expect(decision.attachPackages).toBeUndefined();
    expect(decision.events).toContain('command-delivered');
    const after = storedAfter(decision);
    expect(after.pendingCommand).toBeUndefined();
    expect(after.lastCommand).toEqual({ type: 'restart', id: 'cmd-1', queuedAt: T0, deliveredAt: T0 + MINUTE });
    // What the command displaced waits for the next poll.
    expect(after.outbox).toEqual(outbox);
    expect(after.packagesOffer).toBeUndefined();
    expect(after.sentCustomCapabilities).toBeUndefined();
    expect(after.componentsRequested).toBeUndefined();

    const next = decide(beat(3n, { capabilities: CAPS | REPORTS_COMPONENTS }), { record: after, now: T0 + 2 * MINUTE, options });
    expect(next.reply.command).toBeUndefined();
    expect(next.reply.packagesAvailable).toBeDefined();
    expect(next.reply.customMessage?.capability).toBe('io.pause');
    expect(next.reply.customCapabilities?.capabilities).toEqual(['io.server']);
    expect(next.reply.flags & REPORT_AVAILABLE_COMPONENTS).toBe(REPORT_AVAILABLE_COMPONENTS);
  });

  it('is delivered once', () => {
    // Prepare
    const agent = session(queued());
    agent.send(beat(2n, { capabilities: CAPS }), { now: T0 + MINUTE });

    // Act
    const again = [agent.send(beat(3n, { capabilities: CAPS }), { now: T0 + 2 * MINUTE }), agent.send(beat(4n, { capabilities: CAPS }), { now: T0 + 3 * MINUTE })];

    // Assess
    for (const decision of again) {
      expect(decision.reply.command).toBeUndefined();
      expect(decision.events).not.toContain('command-delivered');
    }
    expect(agent.record?.lastCommand?.deliveredAt).toBe(T0 + MINUTE);
  });

  it('waits while the reply must ask for the full state, and goes with the next poll', () => {
    // Prepare: a sequence gap, reported with a heartbeat: the reply asks for the full state.
    const agent = session(queued());

    // Act
    const gap = agent.send(beat(50n, { capabilities: CAPS }), { now: T0 + 30 * SECOND });
    const answer = agent.send(report(51n, { capabilities: CAPS }), { now: T0 + 60 * SECOND });

    // Assess
    expect(asksFullState(gap.reply)).toBe(true);
    expect(gap.reply.command).toBeUndefined();
    expect(gap.records.at(-1)?.record.pendingCommand).toEqual(pending);
    expect(answer.reply.command?.type).toBe(CommandType.CommandType_Restart);
    expect(answer.reply.flags).toBe(0n);
  });

  it('waits while the reply must carry a new instance uid, and goes to the agent under its new uid', () => {
    // Prepare
    const record = queued();

    // Act
    const assigned = decide(requestsUid(beat(2n, { capabilities: CAPS })), { record, now: T0 + MINUTE, newUid: ASSIGNED_UID_TEXT });
    const moved = storedAfter(assigned);
    const next = decide(create(AgentToServerSchema, { instanceUid: ASSIGNED_UID, sequenceNum: 3n, capabilities: CAPS }), { record: moved, now: T0 + 2 * MINUTE });

    // Assess
    expect(assigned.reply.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
    expect(assigned.reply.command).toBeUndefined();
    expect(moved.instanceUid).toBe(ASSIGNED_UID_TEXT);
    expect(moved.pendingCommand).toEqual(pending);
    expect(next.reply.command?.type).toBe(CommandType.CommandType_Restart);
    expect(next.reply.instanceUid).toEqual(ASSIGNED_UID);
  });

  it('is not delivered to an agent that dropped AcceptsRestartCommand', () => {
    // Prepare
    const record = queued();

    // Act
    const decision = decide(beat(2n, { capabilities: PKG_CAPS }), { record, now: T0 + MINUTE });

    // Assess
    expect(decision.reply.command).toBeUndefined();
    expect(decision.events).not.toContain('command-delivered');
    expect(storedAfter(decision).lastCommand).toBeUndefined();
  });

  it.each<[string, number, 'delivered' | 'expired']>([
    ['the last moment before it expires', pending.expiresAt - 1, 'delivered'],
    ['the moment it expires', pending.expiresAt, 'expired'],
    ['long after it expired', pending.expiresAt + 60 * MINUTE, 'expired'],
  ])('at %s it is %s', (_name, now, outcome) => {
    // Prepare
    const record = queued();

    // Act
    const decision = decide(beat(2n, { capabilities: CAPS }), { record, now });

    // Assess
    const after = storedAfter(decision);
    expect(after.pendingCommand).toBeUndefined();
    if (outcome === 'delivered') {
      expect(decision.reply.command?.type).toBe(CommandType.CommandType_Restart);
      expect(after.lastCommand).toEqual({ type: 'restart', id: 'cmd-1', queuedAt: T0, deliveredAt: now });
    } else {
      expect(decision.reply.command).toBeUndefined();
      expect(decision.events).toContain('command-expired');
      expect(after.lastCommand).toEqual({ type: 'restart', id: 'cmd-1', queuedAt: T0, expiredAt: now });
      // The reply is an ordinary one: the package offer goes out.
      expect(decision.reply.packagesAvailable).toBeDefined();
    }
  });
});

describe('decidePoll: custom messages', () => {
  const message = (id: string, capability: string, expiresAt = T0 + 60 * MINUTE): QueuedMessage => ({
    id,
    capability,
    type: `type-${id}`,
    data: Buffer.from(`data of ${id}`).toString('base64'),
    queuedAt: T0,
    expiresAt,
  });

  function advertising(...capabilities: string[]): AgentRecord {
    return storedAfter(decide(report(1n, { customCapabilities: customCapabilities(...capabilities) }), { fleet: null, now: T0 }));
  }

  it('delivers one queued message per reply, only for a capability the agent advertised', () => {
    // Prepare
    const [m1, other, m3] = [message('m1', 'io.pause'), message('m2', 'io.other'), message('m3', 'io.pause')];
    const agent = session({ ...advertising('io.pause'), outbox: [m1!, other!, m3!] });

    // Act
    const replies = [1, 2, 3].map((i) => agent.send(beat(1n + BigInt(i)), { now: T0 + i * MINUTE, fleet: null }).reply);

    // Assess
    expect(replies[0]!.customMessage).toMatchObject({ capability: 'io.pause', type: 'type-m1' });
    expect(Buffer.from(replies[0]!.customMessage!.data).toString()).toBe('data of m1');
    expect(replies[1]!.customMessage).toMatchObject({ capability: 'io.pause', type: 'type-m3' });
    expect(replies[2]!.customMessage).toBeUndefined();
    expect(agent.record?.outbox).toEqual([other]);
  });

  it('delivers a message for a capability the record may have left out of a list it keeps only in part', () => {
    // Prepare
    const truncated = { ...advertising('io.pause'), customCapabilitiesTruncated: { kept: 1, total: 90_000, omitted: ['io.late'] } };
    const agent = session({ ...truncated, outbox: [message('m1', 'io.late')] });

    // Act
    const reply = agent.send(beat(2n), { now: T0 + MINUTE, fleet: null }).reply;

    // Assess
    expect(reply.customMessage).toMatchObject({ capability: 'io.late', type: 'type-m1' });
  });

  it.each<[string, QueuedMessage[], string | undefined]>([
    ['delivers the live one after dropping the expired', [message('old', 'io.pause', T0 + MINUTE), message('live', 'io.pause')], 'type-live'],
    ['drops an expired message and delivers nothing', [message('old', 'io.pause', T0 + MINUTE)], undefined],
  ])('%s', (_name, outbox, deliveredType) => {
    // Prepare
    const record = { ...advertising('io.pause'), outbox };

    // Act
    const decision = decide(beat(2n), { record, now: T0 + MINUTE, fleet: null });

    // Assess
    expect(decision.reply.customMessage?.type).toBe(deliveredType);
    expect(storedAfter(decision).outbox).toBeUndefined();
  });

  describe("the server's custom capabilities", () => {
    const options = { ...OPTS, serverCustomCapabilities: ['io.server.a', 'io.server.b'] };

    it('are sent once, again after a sequence reset, and again when they change', () => {
      // Prepare
      const agent = session();
      const steps: Array<[string, () => PollDecision, string[] | undefined]> = [
        ['first report', () => agent.send(report(1n), { now: T0, options, fleet: null }), ['io.server.a', 'io.server.b']],
        ['next poll', () => agent.send(beat(2n), { now: T0 + MINUTE, options, fleet: null }), undefined],
        ['a later poll', () => agent.send(beat(3n), { now: T0 + 2 * MINUTE, options, fleet: null }), undefined],
        ['after a restart (counter reset)', () => agent.send(report(0n), { now: T0 + 3 * MINUTE, options, fleet: null }), ['io.server.a', 'io.server.b']],
        ['the poll after that', () => agent.send(beat(1n), { now: T0 + 4 * MINUTE, options, fleet: null }), undefined],
        ['after the server changed them', () => agent.send(beat(2n), { now: T0 + 5 * MINUTE, options: { ...options, serverCustomCapabilities: ['io.server.c'] }, fleet: null }), ['io.server.c']],
      ];

      // Act
      const sent = steps.map(([, act]) => act().reply.customCapabilities?.capabilities);

      // Assess
      expect(sent).toEqual(steps.map(([, , expected]) => expected));
    });

    it('are never sent when the server has none', () => {
      // Act
      const decision = decide(report(1n), { fleet: null });

      // Assess
      expect(decision.reply.customCapabilities).toBeUndefined();
      expect(storedAfter(decision).sentCustomCapabilities).toBeUndefined();
    });
  });

  describe('a message from the agent', () => {
    const from = (seq: bigint, data: Uint8Array) => beat(seq, { customMessage: { capability: 'io.pause', type: 'paused', data } });

    it('is kept in its inbox, numbered from 1', () => {
      // Prepare
      const agent = session(advertising('io.pause'));

      // Act
      const first = agent.send(from(2n, new TextEncoder().encode('ok')), { now: T0 + MINUTE, fleet: null });
      const second = agent.send(from(3n, new TextEncoder().encode('again')), { now: T0 + 2 * MINUTE, fleet: null });

      // Assess
      expect(first.inbox).toEqual({
        instanceUid: AGENT_UID_TEXT,
        index: 1,
        message: { capability: 'io.pause', type: 'paused', data: Buffer.from('ok').toString('base64'), truncated: false, receivedAt: T0 + MINUTE },
      });
      expect(first.events).toContain('message-received');
      expect(second.inbox?.index).toBe(2);
      expect(agent.record?.inboxCount).toBe(2);
    });

    it.each<[string, number, boolean]>([
      ['at the limit is kept whole', INBOX_LIMITS.maxDataBytes, false],
      ['one byte over the limit is cut', INBOX_LIMITS.maxDataBytes + 1, true],
      ['far over the limit is cut', INBOX_LIMITS.maxDataBytes * 4, true],
    ])('with data %s', (_name, size, truncated) => {
      // Prepare
      const data = new Uint8Array(size).map((_, i) => i % 251);

      // Act
      const decision = decide(from(2n, data), { record: advertising('io.pause'), now: T0 + MINUTE, fleet: null });

      // Assess
      const kept = Buffer.from(decision.inbox!.message.data, 'base64');
      expect(decision.inbox!.message.truncated).toBe(truncated);
      expect(kept).toHaveLength(Math.min(size, INBOX_LIMITS.maxDataBytes));
      expect(kept.equals(Buffer.from(data.subarray(0, INBOX_LIMITS.maxDataBytes)))).toBe(true);
    });

    it('is not stored twice when the agent retries the same message', () => {
      // Prepare
      const message = from(2n, new TextEncoder().encode('ok'));
      const stored = storedAfter(decide(message, { record: advertising('io.pause'), now: T0 + MINUTE, fleet: null }));

      // Act
      const retry = decide(message, { record: stored, now: T0 + MINUTE + SECOND, fleet: null });

      // Assess
      expect(retry.events).toContain('duplicate');
      expect(retry.inbox).toBeUndefined();
      expect(retry.records).toEqual([]);
    });

    it('is kept under the uid the agent is given when the same message asks for a new uid', () => {
      // Prepare
      const record = advertising('io.pause');

      // Act
      const decision = decide(requestsUid(from(2n, new TextEncoder().encode('ok'))), { record, now: T0 + MINUTE, fleet: null, newUid: ASSIGNED_UID_TEXT });

      // Assess: the inbox count moves to the new uid's record; the message it counts must be stored there too.
      expect(storedAfter(decision).instanceUid).toBe(ASSIGNED_UID_TEXT);
      expect(storedAfter(decision).inboxCount).toBe(1);
      expect(decision.inbox?.index).toBe(1);
      expect(decision.inbox?.instanceUid).toBe(ASSIGNED_UID_TEXT);
    });
  });
});

describe('decidePoll: available components', () => {
  const CAPS = PKG_CAPS | REPORTS_COMPONENTS;
  const asked = (d: PollDecision) => (d.reply.flags & REPORT_AVAILABLE_COMPONENTS) !== 0n;

  it('asks once per unknown hash, again for a new hash, and not for a hash whose map is stored', () => {
    // Prepare
    const agent = session();
    const steps: Array<[string, MessageInitShape<typeof AgentToServerSchema>, boolean]> = [
      ['hash c1 only', { availableComponents: availableComponents('c1') }, true],
      ['a heartbeat', {}, false],
      ['hash c1 only again', { availableComponents: availableComponents('c1') }, false],
      ['hash c2 only', { availableComponents: availableComponents('c2') }, true],
      ['c3 with its full map', { availableComponents: availableComponents('c3', [['otlp', '1']]) }, false],
      ['hash c3 only', { availableComponents: availableComponents('c3') }, false],
    ];
    agent.send(report(1n, { capabilities: CAPS }), { now: T0, fleet: null });

    // Act
    const decisions = steps.map(([, init], i) => agent.send(beat(2n + BigInt(i), { capabilities: CAPS, ...init }), { now: T0 + (i + 1) * MINUTE, fleet: null }));

    // Assess
    expect(decisions.map(asked)).toEqual(steps.map(([, , expected]) => expected));
    expect(decisions[0]!.events).toContain('components-requested');
    expect(agent.record?.componentsRequested).toBe(Buffer.from('c2').toString('base64url'));
    expect(agent.record?.availableComponentsHash).toBe(Buffer.from('c3').toString('base64url'));
  });

  it.each<[string, bigint, ReturnType<typeof availableComponents>]>([
    ['the agent does not report available components', PKG_CAPS, availableComponents('c1')],
    ['the first message carries the full map', CAPS, availableComponents('c1', [['otlp', '1']])],
  ])('does not ask when %s', (_name, capabilities, components) => {
    // Act
    const decision = decide(report(1n, { capabilities, availableComponents: components }), { fleet: null });

    // Assess
    expect(asked(decision)).toBe(false);
    expect(storedAfter(decision).componentsRequested).toBeUndefined();
  });
});

describe('decidePoll: duplicate instance uid', () => {
  /** A record after the original's full report at seq 15, then a second agent's full report from seq 0 (a reset). */
  function afterClone(): { stored: AgentRecord; resetAt: number } {
    const agent = session();
    agent.send(report(15n), { now: T0, fleet: null });
    const clone = agent.send(report(0n), { now: T0 + 30 * SECOND, fleet: null });
    expect(clone.events).toContain('sequence-reset');
    expect(clone.events).not.toContain('duplicate-uid');
    return { stored: agent.record!, resetAt: T0 + 30 * SECOND };
  }

  it.each<[string, bigint, number, boolean]>([
    ['the new counter counts on (next)', 1n, 30 * SECOND, false],
    ['the new counter skips what unwritten heartbeats explain (ahead)', 3n, 60 * SECOND, false],
    ['a gap that stays at or below the pre-reset counter', 15n, 30 * SECOND, false],
    ['a gap past the pre-reset counter', 16n, 30 * SECOND, true],
    ['a gap past the pre-reset counter after the window', 1_000n, WINDOW, false],
  ])('after a reset, %s: split %s', (_name, seq, after, split) => {
    // Prepare
    const { stored, resetAt } = afterClone();

    // Act
    const decision = decide(beat(seq), { record: stored, now: resetAt + after, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    expect(decision.events.includes('duplicate-uid')).toBe(split);
    expect(decision.reply.agentIdentification !== undefined).toBe(split);
  });

  it("splits: the sender gets a new 16-byte uid and its own record with its message's state; the original record notes the event", () => {
    // Prepare
    const { stored, resetAt } = afterClone();
    const now = resetAt + 30 * SECOND;
    const message = beat(16n, { agentDescription: description({ 'service.name': 'checkout' }, { 'host.name': 'vm-2' }) });

    // Act
    const decision = decide(message, { record: stored, now, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    expect(decision.reply.instanceUid).toEqual(AGENT_UID);
    expect(decision.reply.agentIdentification?.newInstanceUid).toEqual(ASSIGNED_UID);
    expect(decision.reply.agentIdentification?.newInstanceUid).toHaveLength(16);
    expect(asksFullState(decision.reply)).toBe(true); // a heartbeat with a description is not the full state
    const [newcomer, original] = decision.records;
    expect(newcomer!.expectedVersion).toBe(0);
    expect(newcomer!.record).toMatchObject({ instanceUid: ASSIGNED_UID_TEXT, version: 1, sequenceNum: 16n, capabilities: PKG_CAPS, firstSeenAt: now });
    expect(newcomer!.record.attributes).toEqual({ 'service.name': 'checkout', 'host.name': 'vm-2' });
    expect(decision.sections.map((s) => s.instanceUid)).toEqual([ASSIGNED_UID_TEXT]);
    expect(newcomer!.record.sectionIds.description).toBe(decision.sections[0]!.id);
    expect(original!.expectedVersion).toBe(stored.version);
    expect(original!.record).toEqual({
      ...stored,
      version: stored.version + 1,
      duplicates: [{ at: now, newInstanceUid: ASSIGNED_UID_TEXT, reason: expect.stringMatching(/two sequence counters interleave/) }],
    });
    expect(decision.events).toContain('duplicate-uid');
  });

  it("keeps a custom message the sender sent with the message that split it, in the newcomer's inbox", () => {
    // Prepare
    const { stored, resetAt } = afterClone();
    const message = beat(16n, { customMessage: create(CustomMessageSchema, { capability: 'io.example.ping', type: 'hello', data: new Uint8Array([1, 2]) }) });

    // Act
    const decision = decide(message, { record: stored, now: resetAt + 30 * SECOND, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    expect(decision.events).toEqual(expect.arrayContaining(['duplicate-uid', 'message-received']));
    expect(decision.records[0]!.record.inboxCount).toBe(1);
    expect(decision.records[1]!.record.inboxCount).toBe(stored.inboxCount);
    expect(decision.inbox).toMatchObject({ instanceUid: ASSIGNED_UID_TEXT, index: 1, message: { capability: 'io.example.ping', type: 'hello', data: 'AQI=' } });
  });

  it(`keeps at most ${MAX_DUPLICATE_EVENTS} events on the original record, the latest last`, () => {
    // Prepare
    const { stored, resetAt } = afterClone();
    const earlier: DuplicateEvent[] = Array.from({ length: MAX_DUPLICATE_EVENTS }, (_, i) => ({ at: T0 - (10 - i) * MINUTE, newInstanceUid: `uid-${i}`, reason: 'earlier' }));

    // Act
    const decision = decide(beat(16n), { record: { ...stored, duplicates: earlier }, now: resetAt + 30 * SECOND, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    const duplicates = decision.records[1]!.record.duplicates!;
    expect(duplicates).toHaveLength(MAX_DUPLICATE_EVENTS);
    expect(duplicates.slice(0, -1)).toEqual(earlier.slice(1));
    expect(duplicates.at(-1)?.newInstanceUid).toBe(ASSIGNED_UID_TEXT);
  });

  it('splits when the start time goes back to the process before a restart', () => {
    // Prepare: process S1, then a process S2 starts with a fresh counter.
    const withStart = (start: bigint) => ({ ...health(true), startTimeUnixNano: start });
    const agent = session();
    agent.send(report(10n, { health: withStart(1_000n) }), { now: T0, fleet: null });
    const restart = agent.send(report(0n, { health: withStart(2_000n) }), { now: T0 + 30 * SECOND, fleet: null });

    // Act: the S1 process speaks again, with a number that fits the new counter.
    const decision = decide(beat(1n, { health: withStart(1_000n) }), { record: agent.record, now: T0 + 60 * SECOND, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    expect(restart.events).not.toContain('duplicate-uid');
    expect(decision.events).toContain('duplicate-uid');
    expect(decision.records[1]!.record.duplicates?.[0]?.reason).toMatch(/start time/);
  });

  it('does not split on one flip back of identifying attributes (a rolled-back upgrade), splits on the second', () => {
    // Prepare
    const as = (version: string) => description({ 'service.name': 'checkout', 'service.version': version });
    const agent = session();
    agent.send(report(10n, { agentDescription: as('1') }), { now: T0, fleet: null });

    // Act
    const upgrade = agent.send(beat(11n, { agentDescription: as('2') }), { now: T0 + MINUTE, fleet: null });
    const rollback = agent.send(beat(12n, { agentDescription: as('1') }), { now: T0 + 2 * MINUTE, fleet: null });
    const again = decide(beat(13n, { agentDescription: as('2') }), { record: agent.record, now: T0 + 3 * MINUTE, fleet: null, newUid: ASSIGNED_UID_TEXT });

    // Assess
    expect(upgrade.events).not.toContain('duplicate-uid');
    expect(rollback.events).not.toContain('duplicate-uid');
    expect(again.events).toContain('duplicate-uid');
    expect(again.records[1]!.record.duplicates?.[0]?.reason).toMatch(/identifying attributes/);
  });

  it('does not split when detection is off (duplicateWindowMs 0)', () => {
    // Prepare
    const { stored, resetAt } = afterClone();

    // Act
    const decision = decide(beat(16n), { record: stored, now: resetAt + 30 * SECOND, fleet: null, options: { ...OPTS, duplicateWindowMs: 0 } });

    // Assess
    expect(decision.events).not.toContain('duplicate-uid');
    expect(decision.reply.agentIdentification).toBeUndefined();
  });
});
