import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import { configHash } from '../../functions/core/config-hash.js';
import { RemoteConfigStatuses } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { parseSelector } from '../../functions/core/selector.js';
import { RolloutEngine } from '../../functions/service/rollouts/rollout-engine.js';
import { COLLECTOR_CAPS } from '../support/messages.js';
import { freshTable } from './fleet-table.js';
import { emulatorClients, newUid, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

const T0 = Date.UTC(2026, 0, 1);
const LIVENESS = { presenceWindowMs: 60_000, expectedPollIntervalMs: 3_600_000, missedPollsBeforeStale: 3 };
const REMOTE_CONFIG = { resendAfterMs: 300_000, maxAttempts: 3 };
const FILE = { fileName: 'collector.yaml', objectKey: 'configs/checkout/collector.yaml', sha256: 'a'.repeat(64), size: 10, contentType: 'text/yaml' };
const HASH = configHash([FILE]);

let stores: Stores;
let fleet: DynamoFleetStore;
let now = T0;

function agent(applied: boolean): AgentRecord {
  return {
    instanceUid: newUid(),
    version: 1,
    sequenceNum: 1n,
    lastMessageDigest: '',
    capabilities: COLLECTOR_CAPS,
    firstSeenAt: T0,
    lastSeenAt: T0,
    attributes: { 'service.name': 'checkout' },
    healthy: true,
    sections: {},
    sectionIds: {},
    ...(applied ? { remoteConfigStatus: { hash: HASH, status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, errorMessage: '' } } : {}),
    expiresAt: Math.floor(T0 / 1000) + 86_400,
  };
}

const engine = () => new RolloutEngine({ fleet, agents: stores.agents, liveness: LIVENESS, remoteConfig: REMOTE_CONFIG, now: () => now });

beforeEach(async () => {
  stores = await provisionStores();
  fleet = new DynamoFleetStore(stores.clients.dynamodb, stores.tableName);
  now = T0;
  await fleet.putConfigFile({ configName: 'checkout', ...FILE, updatedAt: T0 }, {});
  const rollout = { steps: [{ percent: 50 }, { percent: 100 }], bakeSeconds: 60, maxFailed: { count: 0 }, onFailure: 'pause' as const };
  await fleet.putAssignment('checkout', { name: 'checkout', config: 'checkout', selector: parseSelector('service.name=checkout'), priority: 0, rollout }, {}, T0);
  await fleet.bumpGeneration();
});

describe('staged rollouts over DynamoDB', () => {
  it('stores a rollout in the fleet partition, conditional on its revision, and loads it with the fleet state', async () => {
    const [started] = await engine().reconcile();
    expect(started).toMatchObject({ id: 'checkout.config.1', revision: 1 });
    // A second writer that read nothing (revision 0) cannot create it again, nor can a stale update.
    expect(await fleet.putRollout({ ...started!, revision: 1 })).toBe(false);
    expect(await fleet.putRollout({ ...started!, state: 'paused', revision: 2 })).toBe(true);
    expect(await fleet.putRollout({ ...started!, state: 'completed', revision: 2 })).toBe(false);
    const { state, rollouts } = await fleet.load();
    expect(rollouts).toHaveLength(1);
    expect(state.rollouts.get('checkout/config')).toMatchObject({ state: 'paused', revision: 2, policy: { bakeSeconds: 60 } });
  });

  it('makes each transition once when several evaluators look at the same time', async () => {
    for (let i = 0; i < 8; i++) await stores.agents.put({ record: agent(false), expectedVersion: 0 });
    await engine().reconcile();
    const before = await fleet.generation();

    // Six function instances evaluate at once: the first step starts once.
    const results = await Promise.all(Array.from({ length: 6 }, () => engine().tick()));
    const { state } = await fleet.load();
    const rollout = state.rollouts.get('checkout/config')!;
    expect(rollout.timeline.filter((e) => e.event === 'step-started')).toHaveLength(1);
    expect(rollout.step).toBe(0);
    expect(results.flatMap((r) => r.evaluated).filter((r) => r.step === 0)).not.toHaveLength(0);
    expect(Number(await fleet.generation())).toBeGreaterThan(Number(before));

    // Once every agent applied it, concurrent looks after the bake complete it once.
    const listed = await stores.agents.list({ limit: 100 });
    for (const record of listed.records) await stores.agents.put({ record: { ...agent(true), instanceUid: record.instanceUid, version: record.version + 1 }, expectedVersion: record.version });
    await engine().tick();
    // Step 1 baked: step 2 starts; step 2 seen good; step 2 baked: completed.
    for (let i = 0; i < 3; i++) {
      now += 61_000;
      await Promise.all(Array.from({ length: 6 }, () => engine().tick()));
    }
    const done = (await fleet.load()).state.rollouts.get('checkout/config')!;
    expect(done.state).toBe('completed');
    expect(done.timeline.map((e) => e.event)).toEqual(['created', 'step-started', 'step-good', 'step-started', 'completed']);
  });

  it('forgets the rollout of a removed assignment, conditional on its revision, so that one of the same name starts afresh', async () => {
    const [first] = await engine().reconcile();
    expect(await fleet.removeRollout('checkout', 'config', first!.revision + 1)).toBe(false);
    await fleet.removeAssignment('checkout', {}, now);
    await fleet.bumpGeneration();
    expect(await engine().reconcile()).toEqual([]);
    expect((await fleet.load()).rollouts).toEqual([]);

    const rollout = { steps: [{ percent: 100 }], bakeSeconds: 0, maxFailed: { count: 0 }, onFailure: 'pause' as const };
    await fleet.putAssignment('checkout', { name: 'checkout', config: 'checkout', selector: parseSelector('service.name=checkout'), priority: 0, rollout }, {}, now + 1);
    await fleet.bumpGeneration();
    const [again] = await engine().reconcile();
    expect(again).toMatchObject({ id: 'checkout.config.1', revision: 1 });
    expect(again!.from).toBeUndefined();
  });

  it('reads no rollout and writes nothing when no assignment is staged', async () => {
    const table = await freshTable(emulatorClients().dynamodb);
    const bare = new DynamoFleetStore(emulatorClients().dynamodb, table);
    const idle = new RolloutEngine({ fleet: bare, agents: stores.agents, liveness: LIVENESS, remoteConfig: REMOTE_CONFIG, now: () => now });
    expect(await idle.tick()).toEqual({ started: [], evaluated: [] });
    expect(await bare.generation()).toBe('0');
  });
});
