import type { AgentPage, AgentSummary, ConfigSummary, FleetClient, Rollout } from './fleet-client.js';

/** The agent's own version, as the OpenTelemetry resource attribute names it. */
export function agentVersion(agent: Pick<AgentSummary, 'attributes'>): string {
  return agent.attributes['service.version'] ?? 'unknown';
}

/** The overview reads at most this many agents; beyond that it says so. */
export const OVERVIEW_AGENT_LIMIT = 10_000;

/** Every agent, page by page with the API's cursor, up to a bound. */
export async function allAgents(client: FleetClient): Promise<{ agents: AgentSummary[]; complete: boolean }> {
  const agents: AgentSummary[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const page = await client.get<AgentPage>(`/agents?${query}`);
    agents.push(...page.agents);
    cursor = page.nextCursor;
  } while (cursor && agents.length < OVERVIEW_AGENT_LIMIT);
  return { agents, complete: !cursor };
}

/** Each configuration's rollout, by configuration name. */
export async function rollouts(client: FleetClient, configs: ConfigSummary[]): Promise<Map<string, Rollout>> {
  const entries = await Promise.all(configs.map(async (config) => [config.name, await client.get<Rollout>(`/configs/${encodeURIComponent(config.name)}/rollout`)] as const));
  return new Map(entries);
}

/**
 * Each agent's remote configuration state (applied, applying, failed,
 * pending, not accepted), from the rollouts: an agent appears in the rollout
 * of the configuration that targets it.
 */
export function configStates(all: Map<string, Rollout>): Map<string, { config: string; state: string }> {
  const states = new Map<string, { config: string; state: string }>();
  for (const [config, rollout] of all) {
    for (const agent of rollout.agents) states.set(agent.instanceUid, { config, state: agent.state });
  }
  return states;
}

export async function fleetConfigStates(client: FleetClient): Promise<Map<string, { config: string; state: string }>> {
  return configStates(await fleetRollouts(client));
}

export async function fleetRollouts(client: FleetClient): Promise<Map<string, Rollout>> {
  const { configs } = await client.get<{ configs: ConfigSummary[] }>('/configs');
  return rollouts(client, configs);
}

/** Counts of each value, largest first, ties by name. */
export function tally(values: Iterable<string>): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}
