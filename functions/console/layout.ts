import { html, raw } from 'hono/html';
import { CONSOLE_CSS } from './style.js';

/** A fragment of escaped HTML (interpolated strings are escaped by `html`). */
export type Html = ReturnType<typeof html>;

const NAV: Array<[href: string, label: string]> = [
  ['/', 'Overview'],
  ['/agents', 'Agents'],
  ['/configs', 'Configurations'],
  ['/rollouts', 'Rollouts'],
  ['/credentials', 'Tokens and certificates'],
];

/** Every page: a skip link, the navigation with the current page marked, and a notice after a form post. */
export function page(options: { title: string; path: string; notice?: string | undefined; error?: string | undefined }, content: Html): Html {
  const links = NAV.map(([href, label]) => html`<li><a href="${href}"${raw(href === options.path ? ' aria-current="page"' : '')}>${label}</a></li>`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · OpAMP fleet</title>
<style>${raw(CONSOLE_CSS)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">OpAMP fleet</span><nav aria-label="Sections"><ul>${links}</ul></nav></header>
<main id="main" tabindex="-1">
<h1>${options.title}</h1>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${content}
</main>
<script>
// Actions that change an agent ask first; without script the form still works.
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
}
</script>
</body>
</html>`;
}

/** Horizontal bars, one per value, scaled to the largest count; the numbers are text so screen readers get them. */
export function barChart(label: string, counts: Array<[name: string, count: number]>): Html {
  const max = Math.max(1, ...counts.map(([, n]) => n));
  const rows = counts.map(
    ([name, n]) => html`<tr><th scope="row">${name}</th><td class="count">${n}</td><td class="bar-cell"><span class="bar" style="width:${Math.round((n / max) * 100)}%"></span></td></tr>`,
  );
  return html`<section class="chart" aria-label="${label}"><h2>${label}</h2>
${counts.length === 0 ? html`<p class="muted">none</p>` : html`<table class="bars"><tbody>${rows}</tbody></table>`}
</section>`;
}

export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function healthBadge(healthy: boolean | null): Html {
  if (healthy === null) return html`<span class="badge">unknown</span>`;
  return healthy ? html`<span class="badge ok">healthy</span>` : html`<span class="badge bad">unhealthy</span>`;
}

export function livenessBadge(liveness: string): Html {
  const tone = liveness === 'online' ? 'ok' : liveness === 'stale' ? 'warn' : 'bad';
  return html`<span class="badge ${tone}">${liveness}</span>`;
}

export function stateBadge(state: string | undefined): Html {
  if (!state) return html`<span class="muted">none</span>`;
  const tone = state === 'applied' || state === 'installed' ? 'ok' : state === 'failed' ? 'bad' : 'warn';
  return html`<span class="badge ${tone}">${state}</span>`;
}

/** Preformatted JSON for sections the console shows as they are. */
export function json(value: unknown): Html {
  return html`<pre class="code">${JSON.stringify(value, null, 2)}</pre>`;
}
