import { html } from 'hono/html';
import type { CertificateView } from '../service/admin/certificates.js';
import type { TokenView } from '../service/agent-tokens.js';
import type { FleetClient } from './fleet-client.js';
import { when } from './layout.js';
import type { Html } from './layout.js';

type Token = TokenView;
type Certificate = CertificateView;

const DAY_MS = 86_400_000;

function expiry(notAfter: string | null, now: number): Html {
  if (!notAfter) return html`<span class="muted">unknown</span>`;
  const days = Math.floor((Date.parse(notAfter) - now) / DAY_MS);
  const tone = days < 0 ? 'bad' : days < 30 ? 'warn' : 'ok';
  return html`${when(notAfter)} <span class="badge ${tone}">${days < 0 ? 'expired' : `${days} days left`}</span>`;
}

export async function credentialsPage(client: FleetClient, now: number): Promise<Html> {
  const [{ tokens }, { certificates }] = await Promise.all([client.get<{ tokens: Token[] }>('/tokens'), client.get<{ certificates: Certificate[] }>('/certificates')]);
  return html`<h2>Agent tokens</h2>
<p class="muted">Tokens are shown once, when created (<code>opampctl token create &lt;name&gt;</code>); here only their fingerprints.</p>
<table><thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Fingerprint</th><th scope="col">Deliverable</th><th scope="col">Agents using it</th><th scope="col">Settings</th></tr></thead>
<tbody>${
    tokens.length
      ? tokens.map(
          (t) =>
            html`<tr><td>${t.name}</td><td>${when(t.createdAt)}</td><td><code>${t.fingerprint}</code></td><td>${t.deliverable ? 'yes' : 'no'}</td><td><a href="/agents?token=${encodeURIComponent(t.name)}">${t.agents ?? 'see agents'}</a></td><td>${(t.settings ?? []).join(', ')}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="muted">No tokens.</td></tr>`
  }</tbody></table>
<h2>Certificates</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">Subject</th><th scope="col">Expires</th><th scope="col">Files</th><th scope="col">Used by settings</th><th scope="col">Problem</th></tr></thead>
<tbody>${
    certificates.length
      ? certificates.map(
          (c) =>
            html`<tr><td>${c.name}</td><td>${c.subject ?? ''}</td><td>${expiry(c.notAfter, now)}</td><td>${Object.entries(c.files)
              .filter(([, present]) => present)
              .map(([f]) => f)
              .join(', ')}</td><td>${(c.settings ?? []).join(', ')}</td><td>${c.error ?? ''}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="muted">No certificates.</td></tr>`
  }</tbody></table>`;
}
