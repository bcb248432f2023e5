import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_CONTENT_MAX_BYTES } from '../../functions/service/admin/configs.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport, SDK_CAPS } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { runOpampctl } from '../support/opampctl.js';

const PACKAGE_CAPS = COLLECTOR_CAPS | caps('AgentCapabilities_AcceptsPackages', 'AgentCapabilities_ReportsPackageStatuses');
const HOSTILE = 'exporters:\n  debug: {} # <script>alert("x")</script> & <b>bold</b>\n';

describe('configuration content, not-accepted counts and what chose an agent its configuration', () => {
  let backend: TestBackend;
  let collector: ScriptedAgent;
  let sdk: ScriptedAgent;
  let elsewhere: ScriptedAgent;

  const agent = (service: string, capabilities: bigint) =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) => fullReport(uid, seq, { capabilities, agentDescription: description({ 'service.name': service }) }),
    });
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${backend.url}/api/v1${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: response.status, json: await response.json() };
  }
  const page = async (path: string) => (await fetch(`${backend.url}${path}`)).text();
  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    collector = agent('web', PACKAGE_CAPS);
    sdk = agent('web', SDK_CAPS);
    elsewhere = agent('batch', COLLECTOR_CAPS);
    for (const a of [collector, sdk, elsewhere]) await a.sendFullReport();
    const files = {
      'collector.yaml': { content: HOSTILE },
      'blob.bin': { contentBase64: Buffer.from([0, 1, 2, 255]).toString('base64') },
      'big.yaml': { content: 'x'.repeat(CONFIG_CONTENT_MAX_BYTES + 1) },
    };
    expect((await api('PUT', '/configs/web', { files })).status).toBe(202);
    expect((await api('PUT', '/configs/default', { files: { 'collector.yaml': { content: 'receivers: {}\n' } } })).status).toBe(202);
    expect((await api('PUT', '/assignments/web', { config: 'web', selector: 'service.name=web' })).status).toBe(202);
    expect((await api('PUT', '/assignments/upgrade', { packages: { _agent: '1.0.0' }, selector: 'service.name=web' })).status).toBe(202);
    await backend.ingested();
    for (const a of [collector, sdk, elsewhere]) await a.heartbeat();
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it("the fleet API returns each file's text on ?content=true, and says why a binary or large file has none", async () => {
    const plain = await api('GET', '/configs/web');
    const full = await api('GET', '/configs/web?content=true');

    expect(plain.json.files.every((f: object) => !('content' in f))).toBe(true);
    const byName = Object.fromEntries(full.json.files.map((f: { name: string }) => [f.name, f]));
    expect(byName['collector.yaml']).toMatchObject({ content: HOSTILE, size: Buffer.byteLength(HOSTILE) });
    expect(byName['blob.bin']).toMatchObject({ content: null, contentOmitted: 'binary', size: 4 });
    expect(byName['big.yaml']).toMatchObject({ content: null, contentOmitted: 'too-large', size: CONFIG_CONTENT_MAX_BYTES + 1 });
  });

  it('refuses a content flag that is not true or false', async () => {
    const bad = await api('GET', '/configs/web?content=yes');

    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('content must be true or false');
  });

  it('the configurations page shows file content in disclosures, escaped', async () => {
    const text = await page('/configs');

    expect(text).toMatch(/<details><summary><code>collector\.yaml<\/code>/);
    expect(text).toContain('<pre class="code" tabindex="0" aria-label="web/collector.yaml" data-testid="config-content">');
    expect(text).toContain('# &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(text).not.toContain('<script>alert(');
    expect(text).toContain('Binary file (4 bytes): not shown.');
    expect(text).toContain(`${CONFIG_CONTENT_MAX_BYTES + 1} bytes: too large to show here.`);
  });

  it('counts the agents that do not accept remote configuration: API, CLI, configurations page and overview', async () => {
    const rollout = await api('GET', '/configs/web/rollout');
    const cli = await ctl('rollout', 'web');
    const configs = await page('/configs');
    const overview = await page('/');

    expect(rollout.json).toMatchObject({ matched: 1, notAccepted: 1 });
    expect(cli).toContain('matched 1  applied 0  applying 1  failed 0  pending 0  not-accepted 1');
    expect(configs).toMatch(/<section class="chart" id="config-web"[\s\S]*?<span data-testid="not-accepted">1 more do not accept remote configuration\.<\/span>/);
    expect(configs).toContain(`<code>${sdk.uidText}</code></a> not-accepted <span class="muted">via web</span>`);
    expect(overview).toContain('<th scope="col">Not accepted</th>');
    expect(overview).toMatch(/<a href="\/configs#config-web">web<\/a><\/td><td>0 of 1<\/td>(<td>.*?<\/td>){4}<td>1<\/td><\/tr>/);
  });

  it('shows not-accepted for a package set assigned to an agent that does not accept packages', async () => {
    const view = await api('GET', `/agents/${sdk.uidText}`);
    const sdkPage = await page(`/agents/${sdk.uidText}`);
    const collectorPage = await page(`/agents/${collector.uidText}`);
    const cli = await ctl('agent', sdk.uidText);
    const rollout = await ctl('package', 'rollout', '_agent', '1.0.0');

    expect(view.json.packages.desired).toMatchObject({ via: 'upgrade', versions: { _agent: '1.0.0' }, states: { _agent: 'not-accepted' } });
    expect(sdkPage).toContain('data-testid="packages-not-accepted">This agent does not accept packages');
    expect(sdkPage).toMatch(/<td><code>_agent<\/code><\/td><td>1\.0\.0<\/td><td data-testid="package-state"><span class="badge warn">not-accepted<\/span>/);
    expect(collectorPage).not.toContain('packages-not-accepted');
    expect(collectorPage).toMatch(/data-testid="package-state"><span class="badge warn">pending<\/span>/);
    expect(cli).toContain('packages        _agent 1.0.0 (via upgrade): not-accepted');
    expect(rollout).toContain('matched 1  installed 0  installing 0  failed 0  pending 1  not-accepted 1');
  });

  it('the agent page names the assignment that chose its configuration, or the default', async () => {
    const assigned = await page(`/agents/${collector.uidText}`);
    const fallback = await page(`/agents/${elsewhere.uidText}`);
    const configs = await page('/configs');

    expect(assigned).toContain('<dd data-testid="config-via">assignment <a href="/configs#assignment-web">web</a></dd>');
    expect(assigned).toContain('<a href="/configs#config-web">web</a>');
    expect(configs).toContain('<tr id="assignment-web">');
    expect(fallback).toContain('<dd data-testid="config-via"><a href="/configs#assignments">default</a>');
    expect(configs).toContain('<h2 id="assignments">Assignments</h2>');
  });
});
