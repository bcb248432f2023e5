import { html } from 'hono/html';
import type { AgentPage, FleetClient } from './fleet-client.js';
import { agentVersion, fleetConfigStates } from './fleet-data.js';
import { healthBadge, livenessBadge, stateBadge, when } from './layout.js';
import type { Html } from './layout.js';

export const AGENTS_PER_PAGE = 50;

export interface AgentsQuery {
  selector?: string | undefined;
  liveness?: string | undefined;
  token?: string | undefined;
  cursor?: string | undefined;
  perPage?: number;
}

export async function agentsPage(client: FleetClient, query: AgentsQuery): Promise<Html> {
  const params = new URLSearchParams({ limit: String(query.perPage ?? AGENTS_PER_PAGE) });
  if (query.selector) params.set('selector', query.selector);
  if (query.liveness) params.set('liveness', query.liveness);
  if (query.token) params.set('token', query.token);
  if (query.cursor) params.set('cursor', query.cursor);
  const [page, states] = await Promise.all([client.get<AgentPage>(`/agents?${params}`), fleetConfigStates(client)]);
  const rows = page.agents.map((agent) => {
    const state = states.get(agent.instanceUid);
    return html`<tr>
<td><a href="/agents/${agent.instanceUid}"><code>${agent.instanceUid}</code></a></td>
<td>${agent.attributes['service.name'] ?? ''}</td>
<td>${agent.attributes['deployment.environment'] ?? agent.attributes['deployment.environment.name'] ?? ''}</td>
<td>${livenessBadge(agent.liveness)}</td>
<td>${healthBadge(agent.healthy)}</td>
<td>${stateBadge(state?.state)}${state ? html` <span class="muted">${state.config}</span>` : ''}</td>
<td>${agentVersion(agent)}</td>
<td>${when(agent.lastSeenAt)}</td>
</tr>`;
  });
  const next = new URLSearchParams();
  if (query.selector) next.set('selector', query.selector);
  if (query.liveness) next.set('liveness', query.liveness);
  if (query.token) next.set('token', query.token);
  const first = `/agents?${next}`;
  if (page.nextCursor) next.set('cursor', page.nextCursor);
  const livenessOptions = ['', 'online', 'stale', 'disconnected'].map((value) => html`<option value="${value}"${value === (query.liveness ?? '') ? html` selected` : ''}>${value || 'any'}</option>`);
  return html`<form class="inline" method="get" action="/agents" role="search">
<label>Selector <input name="selector" value="${query.selector ?? ''}" placeholder="service.name=checkout,deployment.environment=prod" size="48"></label>
<label>Liveness <select name="liveness">${livenessOptions}</select></label>
${query.token ? html`<input type="hidden" name="token" value="${query.token}"><span class="muted">using token ${query.token}</span>` : ''}
<button type="submit">Filter</button>
</form>
<table>
<caption class="muted">${page.agents.length} agents on this page</caption>
<thead><tr><th scope="col">Instance uid</th><th scope="col">Service</th><th scope="col">Environment</th><th scope="col">Liveness</th><th scope="col">Health</th><th scope="col">Configuration</th><th scope="col">Version</th><th scope="col">Last seen</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No agents match.</td></tr>`}</tbody>
</table>
<nav class="pager" aria-label="Pages">
${query.cursor ? html`<a href="${first}">First page</a>` : ''}
${page.nextCursor ? html`<a href="/agents?${next}" rel="next">Next page</a>` : ''}
</nav>`;
}
