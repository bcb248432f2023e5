import { describe, expect, it } from 'vitest';
import type { CostRow } from '../../../scripts/bench/cost-model.js';
import { crossovers, SERVER_ASSUMPTIONS, serverCost } from '../../../scripts/bench/crossover.js';

/** A serverless cost that grows by `perAgent` dollars a month per agent. */
const linear =
  (perAgent: number) =>
  (agents: number): CostRow =>
    ({ total: agents * perAgent }) as CostRow;

describe('serverCost', () => {
  it('prices at least the instance pair and the load balancer, however small the fleet', () => {
    const cost = serverCost(1, 300, 281);

    const floor = 2 * 720 * SERVER_ASSUMPTIONS.instancePerHour + 720 * SERVER_ASSUMPTIONS.loadBalancerPerHour;
    expect(cost.instances).toBe(2);
    expect(cost.total).toBeGreaterThanOrEqual(floor);
  });

  it('adds instances when the polls outgrow the pair', () => {
    expect(serverCost(3_000_000, 1, 281).instances).toBe(Math.ceil(3_000_000 / SERVER_ASSUMPTIONS.pollsPerSecondPerInstance));
  });
});

describe('crossovers', () => {
  it('finds the largest fleet for which the serverless side is cheaper', () => {
    const serverless = linear(0.005);

    const [found] = crossovers([300], serverless, 281);

    const n = found!.cheaperUpToAgents!;
    expect(serverless(n).total).toBeLessThan(serverCost(n, 300, 281).total);
    expect(serverless(n + 1).total).toBeGreaterThanOrEqual(serverCost(n + 1, 300, 281).total);
  });

  it('says so when the serverless side is never, or always, the cheaper one', () => {
    expect(crossovers([30], linear(1000), 281)[0]?.cheaperUpToAgents).toBe(0);
    expect(crossovers([30], linear(0), 281)[0]?.cheaperUpToAgents).toBeUndefined();
  });
});
