import { html } from 'hono/html';
import type { FleetClient } from './fleet-client.js';
import { agentVersion, allAgents, configStates, fleetRollouts, OVERVIEW_AGENT_LIMIT, tally } from './fleet-data.js';
import { barChart } from './layout.js';
import type { Html } from './layout.js';
import { rolloutRows } from './rollouts-page.js';

export async function overviewPage(client: FleetClient): Promise<Html> {
  const [{ agents, complete }, progress, staged] = await Promise.all([allAgents(client), fleetRollouts(client), client.get<{ rollouts: Parameters<typeof rolloutRows>[0] }>('/rollouts')]);
  const states = configStates(progress);
  const rollouts = [...progress.values()].filter((r) => r.matched > 0 || r.notAccepted > 0);
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
</div>
${
  staged.rollouts.length
    ? html`<h2>Staged rollouts</h2>
${rolloutRows(staged.rollouts.filter((r) => r.state !== 'completed').length ? staged.rollouts.filter((r) => r.state !== 'completed') : staged.rollouts)}`
    : ''
}
<h2>Rollouts</h2>
${
  rollouts.length
    ? html`<table><thead><tr><th scope="col">Configuration</th><th scope="col">Applied</th><th scope="col">Progress</th><th scope="col">Applying</th><th scope="col">Failed</th><th scope="col">Pending</th><th scope="col">Not accepted</th></tr></thead><tbody>
${rollouts.map(
  (r) =>
    html`<tr><td><a href="/configs#config-${r.config}">${r.config}</a></td><td>${r.applied} of ${r.matched}</td><td>${r.matched ? html`<progress max="${r.matched}" value="${r.applied}" aria-label="${r.config}: ${r.applied} of ${r.matched} applied"></progress>` : ''}</td><td>${r.applying}</td><td>${r.failed}</td><td>${r.pending}</td><td>${r.notAccepted}</td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted">No configuration reaches any agent yet: <a href="/configs#upload">upload one</a>.</p>`
}`;
}
