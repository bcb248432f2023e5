import { html } from 'hono/html';
import type { VersionDetailView, VersionListView, VersionSummaryView } from '../service/admin/config-versions.js';
import { ApiError } from './fleet-client.js';
import type { FleetClient } from './fleet-client.js';
import type { Html } from './layout.js';
import { when } from './layout.js';

/** Versions shown in a configuration's history on the configurations page (the history page pages through the rest). */
export const HISTORY_PREVIEW = 10;
/** Versions on one page of a configuration's history. */
const HISTORY_PAGE = 50;

const base = (name: string) => `/configs/${encodeURIComponent(name)}/versions`;

/** Where a version's page is. */
export function versionHref(name: string, hashUrl: string, against?: string): string {
  return `${base(name)}/${encodeURIComponent(hashUrl)}${against ? `?against=${encodeURIComponent(against)}` : ''}`;
}

/** A configuration's versions, newest first; none when nothing was recorded yet (the API answers 404 then). */
export async function configVersions(client: FleetClient, name: string, limit: number, cursor?: string): Promise<VersionListView> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  const result = await client.call<VersionListView>('GET', `${base(name)}?${query}`);
  if (result.ok) return result.body;
  if (result.status === 404 && !cursor) return { name, versions: [] };
  throw new ApiError(result.status, result.error ?? `${result.status}`);
}

/** What a version changed against the one before it, as `+added ~changed -removed`. */
function changeText(changes: VersionSummaryView['changes']): string {
  const parts = [...changes.added.map((f) => `+${f}`), ...changes.changed.map((f) => `~${f}`), ...changes.removed.map((f) => `-${f}`)];
  return parts.length ? parts.join(' ') : 'no file changes';
}

function historyRows(name: string, versions: VersionSummaryView[]): Html {
  return html`<table class="history"><caption class="muted">Newest first. Changes: + added, ~ changed, - removed.</caption>
<thead><tr><th scope="col">Recorded</th><th scope="col">By</th><th scope="col">Hash</th><th scope="col">Changes</th></tr></thead><tbody>
${versions.map(
  (v) =>
    html`<tr data-testid="config-version"><td>${when(v.recordedAt)}</td><td>${v.principal ?? html`<span class="muted">unknown</span>`}</td><td><a href="${versionHref(name, v.hashUrl)}"><code>${v.hashUrl.slice(0, 12)}</code></a></td><td>${changeText(v.changes)}</td></tr>`,
)}
</tbody></table>`;
}

/** A configuration's newest versions in a disclosure, for the configurations page. */
export function historyDisclosure(name: string, list: VersionListView): Html {
  if (list.versions.length === 0) return html`<p class="muted">No versions recorded yet.</p>`;
  return html`<details data-testid="config-history"><summary>History (${list.nextCursor ? `${list.versions.length} newest versions` : `${list.versions.length} version${list.versions.length === 1 ? '' : 's'}`})</summary>
${historyRows(name, list.versions)}
${list.nextCursor ? html`<p><a href="${base(name)}">Every version of ${name}</a></p>` : ''}
</details>`;
}

/** Every version of a configuration, a page at a time. */
export async function versionsPage(client: FleetClient, name: string, cursor: string | undefined): Promise<Html> {
  const list = await configVersions(client, name, HISTORY_PAGE, cursor);
  if (list.versions.length === 0) return html`<p class="muted">No versions of ${name} are recorded.</p>`;
  return html`<p><a href="/configs#config-${name}">Back to the configurations</a></p>
${historyRows(name, list.versions)}
${list.nextCursor ? html`<nav class="pager" aria-label="History pages"><a href="${base(name)}?cursor=${list.nextCursor}" rel="next">Older versions</a></nav>` : ''}`;
}

/** The kind of one line of a unified diff, so that it can be marked (its first character stays: the marking is not colour alone). */
function diffLine(line: string): Html {
  if (line.startsWith('+++ ') || line.startsWith('--- ')) return html`<span class="diff-file">${line}</span>`;
  if (line.startsWith('@@')) return html`<span class="diff-hunk">${line}</span>`;
  if (line.startsWith('+')) return html`<ins>${line}</ins>`;
  if (line.startsWith('-')) return html`<del>${line}</del>`;
  if (line.startsWith(' ') || line === '') return html`${line}`;
  return html`<span class="diff-meta">${line}</span>`;
}

/** A unified diff in a focusable <pre>, added lines in <ins>, removed ones in <del>, every line keeping its +, - or space. */
export function diffBlock(diff: string, label: string): Html {
  if (!diff) return html`<p class="muted" data-testid="version-diff">No differences.</p>`;
  const lines = diff.replace(/\n$/, '').split('\n');
  return html`<p class="muted" id="diff-legend">Lines starting with + were added, lines starting with - were removed.</p>
<pre class="code diff" tabindex="0" aria-label="${label}" aria-describedby="diff-legend" data-testid="version-diff">${lines.map((line, i) => html`${i ? '\n' : ''}${diffLine(line)}`)}</pre>`;
}

function versionFile(name: string, file: VersionDetailView['files'][number]): Html {
  return html`<li><details><summary><code>${file.name}</code> <span class="muted">${file.contentType}, ${file.size} bytes</span></summary>
${'content' in file ? html`<pre class="code" tabindex="0" aria-label="${name}/${file.name}" data-testid="version-content">${file.content}</pre>` : html`<p class="muted">Binary file (${file.size} bytes): not shown.</p>`}</details></li>`;
}

/** One recorded version: its files, its diff against the version before it (or `against`), and restoring it. */
export async function versionPage(client: FleetClient, name: string, hash: string, against: string | undefined): Promise<Html> {
  const query = against ? `?against=${encodeURIComponent(against)}` : '';
  const [version, list] = await Promise.all([client.get<VersionDetailView>(`${base(name)}/${encodeURIComponent(hash)}${query}`), configVersions(client, name, HISTORY_PAGE)]);
  // A hash recorded again (a restore) is listed once, at its newest.
  const seen = new Set([version.hash]);
  const others = list.versions.filter((v) => !seen.has(v.hash) && seen.add(v.hash));
  const compared = version.against ? html`<a href="${versionHref(name, version.against.hashUrl)}"><code>${version.against.hashUrl.slice(0, 12)}</code></a>` : '';
  return html`<p><a href="/configs#config-${name}">Back to the configurations</a></p>
<dl class="facts">
<dt>Configuration</dt><dd><a href="/configs#config-${name}">${name}</a></dd>
<dt>Recorded</dt><dd>${when(version.recordedAt)}</dd>
<dt>By</dt><dd>${version.principal ?? html`<span class="muted">unknown</span>`}</dd>
<dt>Hash</dt><dd><code data-testid="version-hash">${version.hashUrl}</code> <span class="muted">(hex <code>${version.hashHex}</code>)</span></dd>
</dl>
<form class="inline" method="post" action="${versionHref(name, version.hashUrl)}/restore" data-confirm="Write this version's files back to configuration ${name}? Agents assigned ${name} get it on their next polls.">
<button type="submit">Restore this version</button>
<span class="muted">Writes its files back to <code>configs/${name}/</code>, as an upload would; it becomes the newest version.</span>
</form>
<h2>Changes</h2>
<p>${version.against ? html`Against ${compared}${against ? '' : ' (the version recorded before it)'}` : 'The first recorded version: every file is new.'}</p>
${
  others.length
    ? html`<form class="inline" method="get" action="${versionHref(name, version.hashUrl)}">
<label>Compare with <select name="against">${others.map((v) => html`<option value="${v.hashUrl}"${v.hash === version.against?.hash ? html` selected` : ''}>${v.hashUrl.slice(0, 12)} (${v.recordedAt})</option>`)}</select></label>
<button type="submit">Compare</button>
</form>`
    : ''
}
${diffBlock(version.diff, `Changes of ${name} in version ${version.hashUrl.slice(0, 12)}`)}
<h2>Files</h2>
<ul>${version.files.map((f) => versionFile(name, f))}</ul>`;
}
