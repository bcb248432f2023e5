// Up to which fleet size this design costs less than an always-on server: a
// small instance pair behind a load balancer, priced with the assumptions
// below. The serverless side is the cost model's row for the fleet and
// interval, from the measured per-poll figures.
import { AWS_PRICES, COST_ASSUMPTIONS } from './cost-model.js';
import type { CostRow } from './cost-model.js';

/**
 * The always-on alternative, us-east-1 on-demand, read on the cost model's date:
 * - EC2 t4g.small (2 vCPU, 2 GiB) $0.0168 an hour: https://aws.amazon.com/ec2/pricing/on-demand/
 * - EBS gp3 $0.08 per GB-month: https://aws.amazon.com/ebs/pricing/
 * - Application Load Balancer $0.0225 an hour plus $0.008 per LCU-hour; an LCU is
 *   25 new connections a second, 3,000 active connections a minute, or 1 GB
 *   processed an hour, whichever is highest: https://aws.amazon.com/elasticloadbalancing/pricing/
 */
export const SERVER_ASSUMPTIONS = {
  instanceType: 't4g.small',
  /** Two, for availability (one per zone), however small the fleet. */
  minInstances: 2,
  instancePerHour: 0.0168,
  ebsGbPerInstance: 8,
  ebsPerGbMonth: 0.08,
  loadBalancerPerHour: 0.0225,
  lcuPerHour: 0.008,
  newConnectionsPerLcu: 25,
  activeConnectionsPerLcu: 3000,
  processedGbPerLcuHour: 1,
  /** The load balancer closes connections idle this long: agents polling less often open a new one per poll. */
  idleTimeoutSeconds: 60,
  /** Polls one instance answers a second with its state in memory (assumed; OpAMP over HTTP, TLS ended at the balancer). */
  pollsPerSecondPerInstance: 1000,
  /** Bytes in and out through the balancer per poll, TLS and headers included (assumed). */
  bytesPerPoll: 600,
  notPriced: "the server's own state store (a database or disk replication between the two instances), its operation and patching; the serverless side includes its store",
} as const;

export interface ServerCost {
  instances: number;
  compute: number;
  loadBalancer: number;
  dataTransfer: number;
  total: number;
}

/** A month of the always-on server for `agents` polling every `intervalSeconds`; data out priced as the serverless side prices it. */
export function serverCost(agents: number, intervalSeconds: number, bytesOutPerPoll: number): ServerCost {
  const s = SERVER_ASSUMPTIONS;
  const hours = COST_ASSUMPTIONS.daysPerMonth * 24;
  const pollsPerSecond = agents / intervalSeconds;
  const instances = Math.max(s.minInstances, Math.ceil(pollsPerSecond / s.pollsPerSecondPerInstance));
  const compute = instances * (s.instancePerHour * hours + s.ebsGbPerInstance * s.ebsPerGbMonth);
  const reconnecting = intervalSeconds > s.idleTimeoutSeconds;
  const lcus = Math.max(
    (reconnecting ? pollsPerSecond : 0) / s.newConnectionsPerLcu,
    // Kept-alive connections stay open; a connection per poll lives about a second.
    (reconnecting ? pollsPerSecond : agents) / s.activeConnectionsPerLcu,
    (pollsPerSecond * 3600 * s.bytesPerPoll) / 1e9 / s.processedGbPerLcuHour,
  );
  const loadBalancer = hours * (s.loadBalancerPerHour + lcus * s.lcuPerHour);
  const dataTransfer = ((pollsPerSecond * hours * 3600 * bytesOutPerPoll) / 1024 ** 3) * AWS_PRICES.dataTransferOutPerGb;
  const total = compute + loadBalancer + dataTransfer;
  return { instances, compute: cents(compute), loadBalancer: cents(loadBalancer), dataTransfer: cents(dataTransfer), total: cents(total) };
}

export interface Crossover {
  pollIntervalSeconds: number;
  /** The largest fleet for which this design costs less (undefined: at least up to the search limit). */
  cheaperUpToAgents: number | undefined;
  serverlessAtCrossover: number;
  serverAtCrossover: number;
}

/**
 * For each interval, the largest fleet for which `serverless(agents)` stays
 * below the server's cost, by bisection (both costs grow with the fleet).
 */
export function crossovers(intervals: readonly number[], serverless: (agents: number, intervalSeconds: number) => CostRow, bytesOutPerPoll: number, limit = 10_000_000): Crossover[] {
  return intervals.map((interval) => {
    const cheaper = (agents: number) => serverless(agents, interval).total < serverCost(agents, interval, bytesOutPerPoll).total;
    if (!cheaper(1))
      return { pollIntervalSeconds: interval, cheaperUpToAgents: 0, serverlessAtCrossover: serverless(1, interval).total, serverAtCrossover: serverCost(1, interval, bytesOutPerPoll).total };
    if (cheaper(limit))
      return {
        pollIntervalSeconds: interval,
        cheaperUpToAgents: undefined,
        serverlessAtCrossover: serverless(limit, interval).total,
        serverAtCrossover: serverCost(limit, interval, bytesOutPerPoll).total,
      };
    let low = 1;
    let high = limit;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (cheaper(mid)) low = mid;
      else high = mid;
    }
    return { pollIntervalSeconds: interval, cheaperUpToAgents: low, serverlessAtCrossover: serverless(low, interval).total, serverAtCrossover: serverCost(low, interval, bytesOutPerPoll).total };
  });
}

const cents = (x: number) => Math.round(x * 100) / 100;
