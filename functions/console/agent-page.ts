import { html } from 'hono/html';
import type { FleetClient } from './fleet-client.js';
import { healthBadge, json, livenessBadge, stateBadge, when } from './layout.js';
import type { Html } from './layout.js';
import { byKey } from '../core/compare.js';
import { standingText } from '../core/rollouts/staging.js';
import type { PackagesView, StagedByView } from '../service/agent-views.js';

interface HealthJson {
  healthy?: boolean;
  status?: string;
  lastError?: string;
  componentHealthMap?: Record<string, HealthJson>;
}

interface AgentDetail {
  instanceUid: string;
  liveness: string;
  healthy: boolean | null;
  attributes: Record<string, string>;
  capabilities: string[];
  customCapabilities: string[];
  token: string | null;
  heartbeatSeconds: number | null;
  firstSeenAt: string;
  lastSeenAt: string;
  description: { identifyingAttributes: Record<string, unknown>; nonIdentifyingAttributes: Record<string, unknown> } | null;
  health: HealthJson | null;
  effectiveConfig: { files: Record<string, { contentType: string; encoding: string; body: string }> } | null;
  remoteConfigStatus: { hash: string; status: string; errorMessage: string } | null;
  connectionSettingsStatus: { hash: string; status: string; errorMessage: string } | null;
  packageStatuses: unknown;
  remoteConfig?: { desired: { config: string; via: string; rollout?: StagedByView | null } | null; state: string; offer: unknown };
  packages?: PackagesView;
  connectionSettings?: unknown;
  commands: { pending: { type: string; queuedAt: string; expiresAt: string } | null; last: { type: string; queuedAt: string; deliveredAt: string | null; expiredAt: string | null } | null };
  duplicates: Array<{ at: string; newInstanceUid: string; reason: string }>;
}

interface Messages {
  received: Array<{ capability: string; type: string; data: string; receivedAt: string }>;
  queued: Array<{ capability: string; type: string; id?: string }>;
}

const RESTART = 'AcceptsRestartCommand';
/** The name of the fallback configuration (and of an assignment for everyone else). */
const DEFAULT = 'default';

function attributeList(attrs: Record<string, unknown>): Html {
  const entries = Object.entries(attrs);
  if (!entries.length) return html`<p class="muted">none</p>`;
  return html`<dl class="facts">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`)}</dl>`;
}

/** The component health tree as nested lists, unhealthy parts marked in words as well as colour. */
function healthTree(name: string, node: HealthJson): Html {
  const children = Object.entries(node.componentHealthMap ?? {}).sort(byKey);
  return html`<li>${healthBadge(node.healthy ?? null)} <strong>${name}</strong> <span class="muted">${node.status ?? ''}</span>${node.lastError ? html` <span class="error-text">${node.lastError}</span>` : ''}
${children.length ? html`<ul class="tree">${children.map(([child, sub]) => healthTree(child, sub))}</ul>` : ''}</li>`;
}

/** The assignment that chose something for the agent; `default` also names the fallback for agents no assignment targets. */
function chosenBy(via: string): Html {
  return via === DEFAULT
    ? html`<a href="/configs#assignments">default</a> <span class="muted">(every agent no other assignment targets)</span>`
    : html`assignment <a href="/configs#assignment-${via}">${via}</a>`;
}

/** The staged rollout that decided an aspect for the agent (the assignment `via` names it), and where the agent stands in it. */
function stagedBy(rollout: StagedByView, via: string, aspect: 'config' | 'packages'): Html {
  return html`Rollout <a href="/rollouts#rollout-${via}-${aspect}"><code>${rollout.id}</code></a>: ${standingText(rollout.side, rollout.state)}`;
}

/** The package set assigned to the agent, with where the agent stands with each package. */
function packageSet(packages: PackagesView | undefined): Html {
  const desired = packages?.desired;
  if (!desired) return html`<p class="muted">No package set is assigned.</p>`;
  const states = Object.values(desired.states);
  const rows = Object.entries(desired.versions).map(
    ([name, version]) => html`<tr><td><code>${name}</code></td><td>${version}</td><td data-testid="package-state">${stateBadge(desired.states[name])}</td></tr>`,
  );
  return html`<p>Package set chosen by ${chosenBy(desired.via)}.</p>
${desired.rollout ? html`<p data-testid="packages-rollout">${stagedBy(desired.rollout, desired.via, 'packages')}</p>` : ''}
${states.length > 0 && states.every((s) => s === 'not-accepted') ? html`<p class="error" data-testid="packages-not-accepted">This agent does not accept packages: it will not install this set.</p>` : ''}
<table><caption>Assigned packages</caption><thead><tr><th scope="col">Package</th><th scope="col">Version</th><th scope="col">State</th></tr></thead><tbody>${rows}</tbody></table>
${desired.errors.length ? html`<p class="error-text">${desired.errors.join('; ')}</p>` : ''}`;
}

function decodeText(body: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body, 'base64'));
  } catch {
    return '(binary)';
  }
}

export async function agentPage(client: FleetClient, uid: string): Promise<Html> {
  const path = `/agents/${encodeURIComponent(uid)}`;
  const [agent, messages] = await Promise.all([client.get<AgentDetail>(path), client.get<Messages>(`${path}/messages`)]);
  const files = Object.entries(agent.effectiveConfig?.files ?? {});
  const canRestart = agent.capabilities.some((c) => c.includes(RESTART));
  const status = agent.remoteConfigStatus;
  const desired = agent.remoteConfig?.desired;
  return html`<dl class="facts">
<dt>Instance uid</dt><dd><code>${agent.instanceUid}</code></dd>
<dt>Liveness</dt><dd>${livenessBadge(agent.liveness)}</dd>
<dt>Health</dt><dd>${healthBadge(agent.healthy)}</dd>
<dt>First seen</dt><dd>${when(agent.firstSeenAt)}</dd>
<dt>Last seen</dt><dd>${when(agent.lastSeenAt)}</dd>
<dt>Poll interval asked</dt><dd>${agent.heartbeatSeconds === null ? html`<span class="muted">not steered</span>` : `${agent.heartbeatSeconds} s`}</dd>
<dt>Token</dt><dd>${agent.token ?? html`<span class="muted">none</span>`}</dd>
<dt>Capabilities</dt><dd>${agent.capabilities.join(', ')}</dd>
${agent.customCapabilities.length ? html`<dt>Custom capabilities</dt><dd>${agent.customCapabilities.join(', ')}</dd>` : ''}
</dl>
${
  agent.duplicates.length
    ? html`<section><h2>Duplicate instance uid</h2><p class="error" role="alert">Another agent used this uid; it was given a new one.</p>
<table><thead><tr><th scope="col">At</th><th scope="col">New uid</th><th scope="col">Reason</th></tr></thead><tbody>
${agent.duplicates.map((d) => html`<tr><td>${when(d.at)}</td><td><a href="/agents/${d.newInstanceUid}"><code>${d.newInstanceUid}</code></a></td><td>${d.reason}</td></tr>`)}
</tbody></table></section>`
    : ''
}
<section><h2>Actions</h2>
<form class="inline" method="post" action="${path}/restart" data-confirm="Restart this agent?">
<button type="submit"${canRestart ? '' : html` disabled aria-describedby="no-restart"`}>Restart</button>
${canRestart ? '' : html`<span id="no-restart" class="muted">This agent does not accept restart commands.</span>`}
</form>
<form class="inline" method="post" action="${path}/message">
<label>Capability <input name="capability" required list="custom-capabilities"></label>
<datalist id="custom-capabilities">${agent.customCapabilities.map((c) => html`<option value="${c}"></option>`)}</datalist>
<label>Type <input name="type" required></label>
<label>Data (text) <input name="data" size="32"></label>
<button type="submit">Send message</button>
</form></section>
<section><h2>Attributes</h2>
<h3>Identifying</h3>${attributeList(agent.description?.identifyingAttributes ?? agent.attributes)}
<h3>Other</h3>${attributeList(agent.description?.nonIdentifyingAttributes ?? {})}</section>
<section><h2>Component health</h2>
${agent.health ? html`<ul class="tree" data-testid="health-tree">${healthTree('agent', agent.health)}</ul>` : html`<p class="muted">not reported</p>`}</section>
<section><h2>Remote configuration</h2>
<dl class="facts">
<dt>Configuration</dt><dd>${desired ? html`<a href="/configs#config-${desired.config}">${desired.config}</a>` : html`<span class="muted">none</span>`}</dd>
${desired ? html`<dt>Chosen by</dt><dd data-testid="config-via">${chosenBy(desired.via)}</dd>` : ''}
${desired?.rollout ? html`<dt>Staged rollout</dt><dd data-testid="config-rollout">${stagedBy(desired.rollout, desired.via, 'config')}</dd>` : ''}
<dt>State</dt><dd>${stateBadge(agent.remoteConfig?.state)}</dd>
<dt>Agent reports</dt><dd>${status ? html`${status.status} <code class="muted">${status.hash.slice(0, 12)}</code>${status.errorMessage ? html` <span class="error-text">${status.errorMessage}</span>` : ''}` : html`<span class="muted">nothing</span>`}</dd>
</dl></section>
<section><h2>Effective configuration</h2>
${
  files.length
    ? files.map(
        ([name, file]) =>
          html`<h3>${name || '(unnamed file)'} <span class="muted">${file.contentType}</span></h3><pre class="code" data-testid="effective-config">${file.encoding === 'utf8' ? file.body : decodeText(file.body)}</pre>`,
      )
    : html`<p class="muted">not reported</p>`
}</section>
<section><h2>Packages</h2>${packageSet(agent.packages)}
${agent.packages?.offer ? html`<p>Last offered ${when(agent.packages.offer.offeredAt)} (${agent.packages.offer.attempts} attempts)</p>` : ''}
<h3>Agent reports</h3>${agent.packageStatuses ? json(agent.packageStatuses) : html`<p class="muted">no package statuses reported</p>`}</section>
<section><h2>Connection settings</h2>${agent.connectionSettings ? json(agent.connectionSettings) : html`<p class="muted">none</p>`}
${agent.connectionSettingsStatus ? html`<p>Agent reports: ${agent.connectionSettingsStatus.status} ${agent.connectionSettingsStatus.errorMessage}</p>` : ''}</section>
<section><h2>Commands and messages</h2>
<dl class="facts">
<dt>Pending command</dt><dd data-testid="pending-command">${agent.commands.pending ? html`${agent.commands.pending.type}, queued ${when(agent.commands.pending.queuedAt)}` : html`<span class="muted">none</span>`}</dd>
<dt>Last command</dt><dd data-testid="last-command">${agent.commands.last ? html`${agent.commands.last.type}, queued ${when(agent.commands.last.queuedAt)}, ${agent.commands.last.deliveredAt ? html`delivered ${when(agent.commands.last.deliveredAt)}` : agent.commands.last.expiredAt ? 'expired' : 'not delivered yet'}` : html`<span class="muted">none</span>`}</dd>
<dt>Queued messages</dt><dd>${messages.queued.length}</dd>
</dl>
${
  messages.received.length
    ? html`<table><caption>Messages from the agent</caption><thead><tr><th scope="col">Received</th><th scope="col">Capability</th><th scope="col">Type</th><th scope="col">Data</th></tr></thead><tbody>
${messages.received.map((m) => html`<tr><td>${when(m.receivedAt)}</td><td>${m.capability}</td><td>${m.type}</td><td><code>${decodeText(m.data)}</code></td></tr>`)}</tbody></table>`
    : html`<p class="muted">No messages from the agent.</p>`
}</section>`;
}
