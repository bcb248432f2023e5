import { html } from 'hono/html';
import type { RolloutView } from '../service/rollouts/rollout-view.js';
import type { FleetClient } from './fleet-client.js';
import type { Html } from './layout.js';
import { when } from './layout.js';

type RolloutSummary = Pick<RolloutView, 'id' | 'assignment' | 'aspect' | 'state' | 'step' | 'steps' | 'counts' | 'reason' | 'updatedAt'> & { to: string };

const ACTIONS: Record<string, Array<[action: string, label: string, confirm?: string]>> = {
  running: [
    ['pause', 'Pause'],
    ['promote', 'Promote to 100 %', 'Give every agent the new version now, without the remaining steps?'],
    ['abort', 'Abort and roll back', 'Roll every agent back to the previous version?'],
  ],
  paused: [
    ['resume', 'Resume'],
    ['promote', 'Promote to 100 %', 'Give every agent the new version now, without the remaining steps?'],
    ['abort', 'Abort and roll back', 'Roll every agent back to the previous version?'],
  ],
};

export function stateTone(state: string): string {
  return state === 'completed' ? 'ok' : state === 'running' ? 'warn' : 'bad';
}

/** A progress bar of the agents that have the change and are good, over those targeted. */
export function rolloutProgress(r: Pick<RolloutSummary, 'id' | 'counts'>): Html {
  const targeted = r.counts?.targeted ?? 0;
  const done = (r.counts?.good ?? 0) + (r.counts?.applied ?? 0);
  return targeted > 0
    ? html`<progress max="${targeted}" value="${done}" aria-label="${r.id}: ${done} of ${targeted} agents have it">${done} of ${targeted}</progress> ${done} of ${targeted}`
    : html`<span class="muted">no agents yet</span>`;
}

/** The staged rollouts, one row each, for the overview. */
export function rolloutRows(rollouts: readonly RolloutSummary[]): Html {
  return html`<table><thead><tr><th scope="col">Rollout</th><th scope="col">State</th><th scope="col">Step</th><th scope="col">Progress</th><th scope="col">Failed</th><th scope="col">To</th></tr></thead><tbody>
${rollouts.map(
  (r) =>
    html`<tr><td><a href="/rollouts#rollout-${r.assignment}-${r.aspect}">${r.assignment} (${r.aspect})</a></td><td><span class="badge ${stateTone(r.state)}">${r.state}</span></td><td>${r.step} of ${r.steps}</td><td>${rolloutProgress(r)}</td><td>${r.counts?.failed ?? 0}</td><td>${r.to}</td></tr>`,
)}
</tbody></table>`;
}

/** Every staged rollout in full, with its actions and timeline. */
export async function rolloutsPage(client: FleetClient): Promise<Html> {
  const { rollouts } = await client.get<{ rollouts: RolloutSummary[] }>('/rollouts');
  if (rollouts.length === 0) {
    return html`<p class="muted">No staged rollouts. Give an assignment a <code>rollout</code> policy (see the staged rollouts guide) and its next change goes out in steps.</p>`;
  }
  const details = await Promise.all(rollouts.map((r) => client.get<RolloutView>(`/rollouts/${encodeURIComponent(r.assignment)}/${r.aspect}`)));
  return html`${rolloutRows(rollouts)}
${details.map((r) => rolloutSection(r))}`;
}

function rolloutSection(r: RolloutView): Html {
  const c = r.counts;
  const base = `/rollouts/${encodeURIComponent(r.assignment)}/${r.aspect}`;
  return html`<section id="rollout-${r.assignment}-${r.aspect}" aria-label="Rollout ${r.id}">
<h2>${r.assignment} (${r.aspect}) <span class="badge ${stateTone(r.state)}">${r.state}</span></h2>
<p>Rollout <code>${r.id}</code>: from ${r.from?.description ?? 'nothing'} to ${r.to.description}; step ${r.step} of ${r.steps} (steps ${r.policy.steps.join(', ')}, bake ${r.policy.bakeSeconds} s, at most ${r.policy.maxFailed} failed, then ${r.policy.onFailure}).</p>
<p>${rolloutProgress(r)}</p>
${r.reason ? html`<p class="error-text">${r.reason}</p>` : ''}
${
  c
    ? html`<table class="counts"><tbody><tr>${(['targeted', 'admitted', 'pending', 'offered', 'applying', 'applied', 'good', 'failed', 'silent', 'notAccepted'] as const).map((k) => html`<th scope="col">${k === 'notAccepted' ? 'not accepted' : k}</th>`)}</tr>
<tr>${(['targeted', 'admitted', 'pending', 'offered', 'applying', 'applied', 'good', 'failed', 'silent', 'notAccepted'] as const).map((k) => html`<td>${c[k]}</td>`)}</tr></tbody></table>`
    : ''
}
${(ACTIONS[r.state] ?? []).length ? html`<div class="inline">${(ACTIONS[r.state] ?? []).map(([action, label, confirm]) => html`<form method="post" action="${base}/${action}"${confirm ? html` data-confirm="${confirm}"` : ''}><button type="submit">${label}</button></form>`)}</div>` : ''}
${r.failed.length ? html`<details><summary>Failed agents (${r.failedCount})</summary><ul>${r.failed.map((f) => html`<li><a href="/agents/${f.instanceUid}"><code>${f.instanceUid}</code></a> ${when(f.at)}: ${f.reason}</li>`)}</ul></details>` : ''}
<details><summary>Timeline</summary><ol>${r.timeline.map((e) => html`<li>${when(e.at)} <strong>${e.event}</strong>${e.step ? ` (step ${e.step})` : ''} by ${e.by}${e.detail ? `: ${e.detail}` : ''}</li>`)}</ol></details>
</section>`;
}
