import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { RolloutEngine } from '../../../functions/service/rollouts/rollout-engine.js';

const LIVENESS = { presenceWindowMs: 60_000, expectedPollIntervalMs: 30_000, missedPollsBeforeStale: 3 };
const POLICY = { steps: [{ percent: 50 }, { percent: 100 }], bakeSeconds: 60, maxFailed: { count: 0 }, onFailure: 'pause' as const };
const FILE = { fileName: 'collector.yaml', objectKey: 'configs/checkout/collector.yaml', sha256: 'b'.repeat(64), size: 1, contentType: 'text/yaml', updatedAt: 0 };

/** A fleet store that counts its reads. */
class CountingFleetStore extends MemoryFleetStore {
  loads = 0;
  generations = 0;
  override async load() {
    this.loads++;
    return super.load();
  }
  override async generation() {
    this.generations++;
    return super.generation();
  }
}

describe('the rollout engine between changes', () => {
  it('costs one generation read per look while nothing runs and nothing changed, and reports the paused count each time', async () => {
    const fleet = new CountingFleetStore();
    const counted: Array<[string, number]> = [];
    const telemetry = { logger: { debug() {}, info() {}, warn() {}, error() {} }, count: (m: string, v = 1) => counted.push([m, v]) };
    const engine = new RolloutEngine({ fleet, agents: new MemoryAgentStore(), liveness: LIVENESS, remoteConfig: { resendAfterMs: 1, maxAttempts: 1 }, now: () => 0, telemetry });
    await fleet.putConfigFile({ configName: 'checkout', ...FILE }, {});
    await fleet.putAssignment('checkout', { name: 'checkout', config: 'checkout', selector: parseSelector('a=b'), priority: 0, rollout: POLICY }, {}, 0);
    await fleet.bumpGeneration();

    // The first look starts the rollout; nobody is targeted, so it completes; the look after sees it quiet.
    expect((await engine.tick()).started).toHaveLength(1);
    await engine.tick();
    await engine.tick();
    const [loads, generations] = [fleet.loads, fleet.generations];
    for (let i = 0; i < 5; i++) expect(await engine.tick()).toEqual({ started: [], evaluated: [] });
    expect(fleet.loads).toBe(loads);
    expect(fleet.generations).toBe(generations + 5);
    expect(counted.filter(([m]) => m === 'RolloutsPaused').length).toBe(8);

    // A change ends the quiet: the next look reads the fleet state again.
    await fleet.putConfigFile({ configName: 'checkout', ...FILE, sha256: 'c'.repeat(64) }, {});
    await fleet.bumpGeneration();
    expect((await engine.tick()).started.map((r) => r.id)).toEqual(['checkout.config.2']);
    expect(fleet.loads).toBeGreaterThan(loads);
  });
});
