import { html } from 'hono/html';
import type { Assignment, ConfigSummary, FleetClient } from './fleet-client.js';
import { configVersions, HISTORY_PREVIEW, historyDisclosure } from './config-history-page.js';
import { rollouts } from './fleet-data.js';
import type { Html } from './layout.js';

type ConfigFile = ConfigSummary['files'][number];

/** Why a file's text is not shown, in words. */
function omitted(file: ConfigFile): string {
  if (file.contentOmitted === 'binary') return `Binary file (${file.size} bytes): not shown.`;
  if (file.contentOmitted === 'too-large') return `${file.size} bytes: too large to show here.`;
  return 'The file changed since it was recorded: reload in a moment.';
}

/** One file of a configuration: its facts, and its text behind a disclosure (escaped like every interpolation). */
function fileItem(config: string, file: ConfigFile): Html {
  return html`<li><details><summary><code>${file.name}</code> <span class="muted">${file.contentType}, ${file.size} bytes</span>${file.error ? html` <span class="error-text">${file.error}</span>` : ''}</summary>
${
  typeof file.content === 'string'
    ? html`<pre class="code" tabindex="0" aria-label="${config}/${file.name}" data-testid="config-content">${file.content}</pre>`
    : html`<p class="muted">${omitted(file)}</p>`
}</details></li>`;
}

export async function configsPage(client: FleetClient): Promise<Html> {
  const [{ configs: listed }, { assignments }] = await Promise.all([client.get<{ configs: ConfigSummary[] }>('/configs'), client.get<{ assignments: Assignment[] }>('/assignments')]);
  const [configs, progress, histories] = await Promise.all([
    Promise.all(listed.map((config) => client.get<ConfigSummary>(`/configs/${encodeURIComponent(config.name)}?content=true`))),
    rollouts(client, listed),
    Promise.all(listed.map((config) => configVersions(client, config.name, HISTORY_PREVIEW))),
  ]);
  const history = new Map(histories.map((h) => [h.name, h]));
  const configSections = configs.map((config) => {
    const rollout = progress.get(config.name);
    const matched = rollout?.matched ?? 0;
    return html`<section class="chart" id="config-${config.name}" data-config="${config.name}"><h3>${config.name}</h3>
<p>Hash <code>${config.hash ? config.hash.slice(0, 16) : 'none (cannot be offered)'}</code></p>
<ul>${config.files.map((f) => fileItem(config.name, f))}</ul>
${historyDisclosure(config.name, history.get(config.name) ?? { name: config.name, versions: [] })}
${config.errors.length ? html`<p class="error">${config.errors.join('; ')}</p>` : ''}
<p>Reaches <strong>${matched}</strong> agents: ${rollout?.applied ?? 0} applied, ${rollout?.applying ?? 0} applying, ${rollout?.failed ?? 0} failed, ${rollout?.pending ?? 0} pending.
<span data-testid="not-accepted">${rollout?.notAccepted ?? 0} more do not accept remote configuration.</span></p>
${matched ? html`<progress max="${matched}" value="${rollout?.applied ?? 0}" aria-label="${config.name}: applied of matched">${rollout?.applied ?? 0} of ${matched}</progress>` : ''}
${
  rollout?.agents.length
    ? html`<details><summary>Agents</summary><ul>${rollout.agents.map((a) => html`<li><a href="/agents/${a.instanceUid}"><code>${a.instanceUid}</code></a> ${a.state} <span class="muted">via ${a.via}</span>${a.errorMessage ? html` <span class="error-text">${a.errorMessage}</span>` : ''}</li>`)}</ul></details>`
    : ''
}
</section>`;
  });
  const assignmentRows = assignments.map(
    (a) =>
      html`<tr id="assignment-${a.name}"><td>${a.name}</td><td>${a.config ?? ''}</td><td>${a.settings ?? ''}</td><td>${a.packages ? JSON.stringify(a.packages) : ''}</td><td><code>${a.selector ?? a.instanceUid ?? (a.name === 'default' ? 'everyone else' : '')}</code></td><td>${a.priority ?? ''}</td><td>${a.inForce ? 'in force' : 'not in force'}${a.error ? html` <span class="error-text">${a.error}</span>` : ''}</td></tr>`,
  );
  const configOptions = configs.map((c) => html`<option value="${c.name}">${c.name}</option>`);
  return html`<h2>Configurations</h2>
${configs.length ? html`<div class="grid">${configSections}</div>` : html`<p class="muted">No configurations yet.</p>`}
<h2 id="upload">Upload a configuration</h2>
<p class="muted">Replaces every file of the configuration. The configuration named <code>default</code> reaches every agent that no assignment gives another one.</p>
<form method="post" action="/configs" class="upload">
<div class="inline">
<label>Configuration name <input name="name" required pattern="[A-Za-z0-9._-]+" value="default"></label>
<label>File name <input name="file" required value="collector.yaml"></label>
<label>Read from a file <input type="file" id="pick-file" accept=".yaml,.yml,.json,.txt,.conf,.toml"></label>
</div>
<label>Content <textarea name="content" rows="10" required></textarea></label>
<button type="submit">Upload</button>
</form>
<script>
document.getElementById('pick-file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const form = event.target.form;
  form.content.value = await file.text();
  form.file.value = file.name;
});
</script>
<h2 id="assignments">Assignments</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">Configuration</th><th scope="col">Settings</th><th scope="col">Packages</th><th scope="col">Target</th><th scope="col">Priority</th><th scope="col">State</th></tr></thead>
<tbody>${assignmentRows.length ? assignmentRows : html`<tr><td colspan="7" class="muted">No assignments.</td></tr>`}</tbody></table>
<h2 id="assign">Assign a configuration</h2>
<form method="post" action="/assignments" class="inline">
<label>Assignment name <input name="name" required pattern="[A-Za-z0-9._-]+"></label>
<label>Configuration <select name="config" required>${configOptions}</select></label>
<label>Selector <input name="selector" required placeholder="service.name=checkout,deployment.environment=prod" size="40"></label>
<label>Priority <input name="priority" type="number" value="0" step="1"></label>
<button type="submit">Assign</button>
</form>`;
}
