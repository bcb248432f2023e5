import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentToServerSchema, RemoteConfigStatusSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { decidePoll } from '../../../functions/core/decide-poll.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { PollDecision } from '../../../functions/core/poll-types.js';
import type { ConfigMeta, FleetState } from '../../../functions/core/fleet.js';
import { description, fullReport, heartbeat } from '../../support/messages.js';
import { ACCEPTS_ONLY, APPLIED, APPLYING, FAILED, FULL_CAPS, NO_ACCEPT, POLICY, config, file, fleet, selectorAssignment } from './fleet-fixtures.js';
import { AGENT_UID, OPTIONS, SECOND, T0, digestOf, storedAfter } from './fixtures.js';

const RESEND = POLICY.resendAfterMs;
const OPTIONS_RC: CoreOptions = { ...OPTIONS, remoteConfig: POLICY };

const DEFAULT = config('default', [file('default', 'collector.yaml', 'receivers: {}')]);
const CHECKOUT = config('checkout', [file('checkout', 'collector.yaml', 'receivers: {otlp: {}}'), file('checkout', 'extra/processors.yaml', 'processors: {}')]);
const FLEET: FleetState = fleet([DEFAULT, CHECKOUT], [selectorAssignment('checkout', 'checkout', 'service.name=checkout,deployment.environment=prod')]);

const hashBytes = (meta: ConfigMeta) => new Uint8Array(Buffer.from(meta.hash, 'base64'));

interface Step {
  record?: AgentRecord | undefined;
  now?: number;
  fleet?: FleetState | undefined;
  withheld?: ReadonlySet<string>;
  options?: CoreOptions;
}

function decide(message: AgentToServer, step: Step = {}): PollDecision {
  return decidePoll({
    record: step.record === undefined ? undefined : structuredClone(step.record),
    message,
    messageDigest: digestOf(message),
    now: step.now ?? T0,
    newInstanceUid: () => {
      throw new Error('no uid was requested');
    },
    options: step.options ?? OPTIONS_RC,
    fleet: 'fleet' in step ? step.fleet : FLEET,
    withheldConfigs: step.withheld,
  });
}

/** A Collector of service `service` in prod; its full report carries an empty remote config status. */
function report(seq: bigint, service = 'checkout', overrides: MessageInitShape<typeof AgentToServerSchema> = {}): AgentToServer {
  return fullReport(AGENT_UID, seq, {
    agentDescription: description({ 'service.name': service }, { 'deployment.environment': 'prod' }),
    ...overrides,
  });
}

function status(seq: bigint, hash: Uint8Array, value: number, errorMessage = '', capabilities = FULL_CAPS): AgentToServer {
  return create(AgentToServerSchema, {
    instanceUid: AGENT_UID,
    sequenceNum: seq,
    capabilities,
    remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: hash, status: value, errorMessage }),
  });
}

describe('decidePoll with a fleet state', () => {
  describe('an offer', () => {
    it("carries the targeted configuration's 32-byte hash, names it in attachConfig, and records the offer", () => {
      // Prepare
      const request = report(1n);

      // Act
      const decision = decide(request, { now: T0 });

      // Assess
      expect(decision.reply.remoteConfig?.configHash).toEqual(hashBytes(CHECKOUT));
      expect(decision.reply.remoteConfig?.configHash).toHaveLength(32);
      expect(decision.attachConfig).toBe(CHECKOUT);
      expect(decision.events).toContain('config-offered');
      expect(storedAfter(decision).configOffer).toEqual({
        hash: CHECKOUT.hash,
        name: 'checkout',
        offeredAt: T0,
        offeredSeq: 1n,
        attempts: 1,
        acknowledged: false,
      });
    });

    it('offers the default to an agent that matches no assignment', () => {
      // Act
      const decision = decide(report(1n, 'cart'));

      // Assess
      expect(decision.reply.remoteConfig?.configHash).toEqual(hashBytes(DEFAULT));
      expect(decision.attachConfig?.name).toBe('default');
    });

    it('targets by the attributes the same message reports (a changed description moves the agent)', () => {
      // Prepare: known as a cart agent, applied the default.
      const before = storedAfter(decide(report(1n, 'cart')));
      const settled = storedAfter(decide(status(2n, hashBytes(DEFAULT), APPLIED), { record: before, now: T0 + SECOND }));

      // Act
      const decision = decide(report(3n, 'checkout'), { record: settled, now: T0 + 2 * SECOND });

      // Assess
      expect(decision.attachConfig?.name).toBe('checkout');
    });

    it.each<[string, Step, bigint]>([
      ['the agent does not accept remote configuration', {}, NO_ACCEPT],
      ['there is no fleet state', { fleet: undefined }, FULL_CAPS],
      ['the configuration is withheld', { withheld: new Set([CHECKOUT.hash]) }, FULL_CAPS],
      ['the server has remote configuration switched off', { options: { ...OPTIONS_RC, features: { ...OPTIONS_RC.features, remoteConfig: false } } }, FULL_CAPS],
    ])('is not made when %s', (_name, step, capabilities) => {
      // Act
      const decision = decide(report(1n, 'checkout', { capabilities }), step);

      // Assess
      expect(decision.reply.remoteConfig).toBeUndefined();
      expect(decision.attachConfig).toBeUndefined();
      expect(decision.events).not.toContain('config-offered');
      expect(storedAfter(decision).configOffer).toBeUndefined();
    });
  });

  describe('a retried duplicate of the message whose reply carried the offer', () => {
    it('carries the offer again, names it in attachConfig, and counts no new attempt', () => {
      // Prepare
      const request = report(1n);
      const stored = storedAfter(decide(request, { now: T0 }));

      // Act
      const retry = decide(request, { record: stored, now: T0 + SECOND });

      // Assess
      expect(retry.events).toContain('duplicate');
      expect(retry.reply.remoteConfig?.configHash).toEqual(hashBytes(CHECKOUT));
      expect(retry.attachConfig).toBe(CHECKOUT);
      expect(retry.records.every((w) => w.record.configOffer?.attempts === 1)).toBe(true);
    });

    it('carries no offer when the configuration is withheld by then', () => {
      // Prepare
      const request = report(1n);
      const stored = storedAfter(decide(request, { now: T0 }));

      // Act
      const retry = decide(request, { record: stored, now: T0 + SECOND, withheld: new Set([CHECKOUT.hash]) });

      // Assess
      expect(retry.reply.remoteConfig).toBeUndefined();
      expect(retry.attachConfig).toBeUndefined();
    });

    it('carries nothing for a retry of a message whose reply had no offer', () => {
      // Prepare: offered with message 1; message 2 (a heartbeat) got no offer.
      const first = storedAfter(decide(report(1n), { now: T0 }));
      const second = decide(heartbeat(AGENT_UID, 2n), { record: first, now: T0 + SECOND });
      const stored = second.records.length > 0 ? storedAfter(second) : first;
      expect(second.reply.remoteConfig).toBeUndefined();

      // Act
      const retry = decide(heartbeat(AGENT_UID, 2n), { record: stored, now: T0 + 2 * SECOND });

      // Assess
      expect(retry.reply.remoteConfig).toBeUndefined();
      expect(retry.attachConfig).toBeUndefined();
    });
  });

  describe('the no-loop rules across polls', () => {
    it('repeats an unreported offer only after resendAfterMs, and at most maxAttempts times', () => {
      // Prepare
      let record = storedAfter(decide(report(1n), { now: T0 }));
      const offeredAt = [T0];

      // Act: the agent keeps sending heartbeats every 30 s for an hour and never reports on the offer.
      let seq = 2n;
      for (let now = T0 + 30 * SECOND; now <= T0 + 60 * 60 * SECOND; now += 30 * SECOND, seq++) {
        const decision = decide(heartbeat(AGENT_UID, seq), { record, now });
        if (decision.reply.remoteConfig) offeredAt.push(now);
        if (decision.records.length > 0) record = storedAfter(decision); // else the store keeps what it had
      }

      // Assess
      expect(offeredAt).toEqual([T0, T0 + RESEND, T0 + 2 * RESEND]);
      expect(record.configOffer?.attempts).toBe(POLICY.maxAttempts);
    });

    it('offers an agent that does not report remote config status once only', () => {
      // Prepare
      const first = decide(report(1n, 'checkout', { capabilities: ACCEPTS_ONLY }), { now: T0 });
      expect(first.reply.remoteConfig).toBeDefined();

      // Act
      const later = decide(heartbeat(AGENT_UID, 2n, ACCEPTS_ONLY), { record: storedAfter(first), now: T0 + 10 * RESEND });

      // Assess
      expect(later.reply.remoteConfig).toBeUndefined();
    });

    it('stops offering once the agent reports the hash FAILED, even after resendAfterMs', () => {
      // Prepare
      const offered = storedAfter(decide(report(1n), { now: T0 }));

      // Act
      const failed = decide(status(2n, hashBytes(CHECKOUT), FAILED, 'unknown receiver'), { record: offered, now: T0 + SECOND });
      const later = decide(heartbeat(AGENT_UID, 3n), { record: storedAfter(failed), now: T0 + 10 * RESEND });

      // Assess
      expect(failed.events).toContain('config-failed');
      expect(failed.reply.remoteConfig).toBeUndefined();
      expect(later.reply.remoteConfig).toBeUndefined();
    });

    it('stops offering after a rollback: took the hash, then APPLIED another', () => {
      // Prepare
      const offered = storedAfter(decide(report(1n), { now: T0 }));
      const taking = storedAfter(decide(status(2n, hashBytes(CHECKOUT), APPLYING), { record: offered, now: T0 + SECOND }));

      // Act
      const rolledBack = decide(status(3n, hashBytes(DEFAULT), APPLIED, 'collector did not come up'), { record: taking, now: T0 + 2 * SECOND });
      const later = decide(heartbeat(AGENT_UID, 4n), { record: storedAfter(rolledBack), now: T0 + 10 * RESEND });

      // Assess
      expect(taking.configOffer?.acknowledged).toBe(true);
      expect(rolledBack.events).toContain('config-rolled-back');
      expect(rolledBack.reply.remoteConfig).toBeUndefined();
      expect(storedAfter(rolledBack).configOffer).toMatchObject({
        hash: CHECKOUT.hash,
        rolledBackAt: T0 + 2 * SECOND,
        rolledBackTo: DEFAULT.hash,
        rollbackMessage: 'collector did not come up',
      });
      expect(later.reply.remoteConfig).toBeUndefined();
    });

    it('offers nothing once the agent reports the desired hash APPLIED', () => {
      // Prepare
      const offered = storedAfter(decide(report(1n), { now: T0 }));
      const applied = storedAfter(decide(status(2n, hashBytes(CHECKOUT), APPLIED), { record: offered, now: T0 + SECOND }));

      // Act
      const later = decide(heartbeat(AGENT_UID, 3n), { record: applied, now: T0 + 10 * RESEND });

      // Assess
      expect(later.reply.remoteConfig).toBeUndefined();
      expect(later.attachConfig).toBeUndefined();
    });

    it('offers a new hash at once when the configuration changes, even right after an offer', () => {
      // Prepare
      const offered = storedAfter(decide(report(1n), { now: T0 }));
      const changed = config('checkout', [file('checkout', 'collector.yaml', 'receivers: {otlp: {}, prometheus: {}}')]);
      const newFleet = fleet([DEFAULT, changed], [...FLEET.assignments], '2');

      // Act
      const decision = decide(heartbeat(AGENT_UID, 2n), { record: offered, now: T0 + SECOND, fleet: newFleet });

      // Assess
      expect(decision.reply.remoteConfig?.configHash).toEqual(hashBytes(changed));
      expect(storedAfter(decision).configOffer).toMatchObject({ hash: changed.hash, attempts: 1, offeredSeq: 2n });
    });
  });
});
