import { html } from 'hono/html';
import type { FleetClient } from './fleet-client.js';
import { agentVersion, allAgents, fleetConfigStates, OVERVIEW_AGENT_LIMIT, tally } from './fleet-data.js';
import { barChart } from './layout.js';
import type { Html } from './layout.js';

export async function overviewPage(client: FleetClient): Promise<Html> {
  const [{ agents, complete }, states] = await Promise.all([allAgents(client), fleetConfigStates(client)]);
  const liveness = tally(agents.map((a) => a.liveness));
  const health = tally(agents.map((a) => (a.healthy === null ? 'unknown' : a.healthy ? 'healthy' : 'unhealthy')));
  const config = tally(agents.map((a) => states.get(a.instanceUid)?.state ?? 'no configuration'));
  const versions = tally(agents.map(agentVersion));
  const services = tally(agents.map((a) => a.attributes['service.name'] ?? 'unknown'));
  return html`<p><strong data-testid="agent-count">${agents.length}</strong> agents${complete ? '' : html` (the first ${OVERVIEW_AGENT_LIMIT}; filter on the <a href="/agents">agents</a> page)`}.
<a href="/agents">See them all</a>.</p>
<div class="grid">
${barChart('Liveness', liveness)}
${barChart('Health', health)}
${barChart('Configuration status', config)}
${barChart('Agent version', versions)}
${barChart('Service', services)}
</div>`;
}
