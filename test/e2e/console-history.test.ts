import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { pollRound, SimulatedCollector, UNSTEERED } from '../support/simulated-fleet.js';
import { runOpampctl } from '../support/opampctl.js';

const FIRST = 'receivers: {}\n# <b>one</b> & "quoted"\n';
const SECOND = 'receivers: {}\n# <script>alert(1)</script>\n';

async function page(backend: TestBackend, path: string, init?: RequestInit): Promise<{ status: number; text: string; location: string | null }> {
  const response = await fetch(`${backend.url}${path}`, { redirect: 'manual', ...init });
  return { status: response.status, text: await response.text(), location: response.headers.get('location') };
}

/** A form post as the console's own pages make it (a browser names the page's origin). */
function form(backend: TestBackend): RequestInit {
  return { method: 'POST', body: new URLSearchParams({}), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: backend.url } };
}

async function api(backend: TestBackend, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${backend.url}/api/v1${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: response.status, json: await response.json() };
}

describe('configuration history in the console', () => {
  let backend: TestBackend;
  let first: { hash: string; hashUrl: string };
  let second: { hash: string; hashUrl: string };

  async function upload(content: string): Promise<void> {
    expect((await api(backend, 'PUT', '/configs/web', { files: { 'collector.yaml': { content } } })).status).toBe(202);
    await backend.ingested();
    backend.clock.advance(60_000);
  }
  const versions = async () => (await api(backend, 'GET', '/configs/web/versions')).json.versions as Array<{ hash: string; hashUrl: string }>;

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    await upload(FIRST);
    await upload(SECOND);
    [second, first] = (await versions()) as [typeof first, typeof second];
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('lists both versions, newest first, each linking to its page', async () => {
    const { text } = await page(backend, '/configs');

    const history = /<details data-testid="config-history">[\s\S]*?<\/details>/.exec(text)?.[0] ?? '';
    expect(history).toContain('<summary>History (2 versions)</summary>');
    expect(history.match(/data-testid="config-version"/g)).toHaveLength(2);
    expect(history.indexOf(`/configs/web/versions/${second.hashUrl}`)).toBeLessThan(history.indexOf(`/configs/web/versions/${first.hashUrl}`));
    expect(history).toMatch(/<td>local<\/td><td><a href="\/configs\/web\/versions\/[^"]+"><code>[^<]{12}<\/code><\/a><\/td><td>~collector\.yaml<\/td>/);
    expect(history).toContain('<td>+collector.yaml</td>');
  });

  it('the history page lists every version, and refuses a cursor that is not one', async () => {
    const history = await page(backend, '/configs/web/versions');
    const badCursor = await page(backend, '/configs/web/versions?cursor=x');

    expect(history.status).toBe(200);
    expect(history.text.match(/data-testid="config-version"/g)).toHaveLength(2);
    expect(history.text).not.toContain('rel="next"');
    expect(badCursor.status).toBe(400);
    expect(badCursor.text).toContain('cursor must be the nextCursor of a previous page');
  });

  it('shows a version with its files and its diff against the one before, escaped and marked by more than colour', async () => {
    const { status, text } = await page(backend, `/configs/web/versions/${second.hashUrl}`);

    expect(status).toBe(200);
    expect(text).toContain(`<code data-testid="version-hash">${second.hashUrl}</code>`);
    expect(text).toContain('<del>-# &lt;b&gt;one&lt;/b&gt; &amp; &quot;quoted&quot;</del>');
    expect(text).toContain('<ins>+# &lt;script&gt;alert(1)&lt;/script&gt;</ins>');
    expect(text).toContain('<span class="diff-file">--- a/collector.yaml</span>');
    expect(text).toMatch(/<pre class="code diff" tabindex="0" aria-label="[^"]+" aria-describedby="diff-legend" data-testid="version-diff">/);
    expect(text).not.toContain('<script>alert(1)');
    expect(text).toContain('data-testid="version-content">receivers: {}\n# &lt;script&gt;');
    expect(text).toContain(`<a href="/configs/web/versions/${first.hashUrl}"><code>${first.hashUrl.slice(0, 12)}</code></a> (the version recorded before it)`);
  });

  it('compares against another version on ?against=, and the first version shows every file as new', async () => {
    const reversed = await page(backend, `/configs/web/versions/${first.hashUrl}?against=${second.hashUrl}`);
    const oldest = await page(backend, `/configs/web/versions/${first.hashUrl}`);

    expect(reversed.text).toContain('<del>-# &lt;script&gt;alert(1)&lt;/script&gt;</del>');
    expect(reversed.text).toContain('<ins>+# &lt;b&gt;one&lt;/b&gt; &amp; &quot;quoted&quot;</ins>');
    expect(oldest.text).toContain('The first recorded version: every file is new.');
    expect(oldest.text).toContain('<span class="diff-file">--- /dev/null</span>');
  });

  it('answers an unknown or malformed version with the API error', async () => {
    const unknown = await page(backend, `/configs/web/versions/${Buffer.alloc(32, 7).toString('base64url')}`);
    const malformed = await page(backend, '/configs/web/versions/nope');

    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no recorded version');
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('The fleet API answered 400');
  });

  it('refuses to restore an unknown version, and a restore from another site, changing nothing', async () => {
    const before = await versions();
    const unknown = await page(backend, `/configs/web/versions/${Buffer.alloc(32, 7).toString('base64url')}/restore`, form(backend));
    const foreign = await page(backend, `/configs/web/versions/${first.hashUrl}/restore`, {
      ...form(backend),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
    });
    await backend.ingested();

    expect(unknown.status).toBe(303);
    expect(unknown.location).toMatch(/\?error=404/);
    expect(foreign.status).toBe(403);
    expect(await versions()).toEqual(before);
  });

  it('restores a version from its page (with a confirm): the old content comes back as the newest version', async () => {
    const versionPage = await page(backend, `/configs/web/versions/${first.hashUrl}`);
    const action = /<form class="inline" method="post" action="([^"]+)" data-confirm="[^"]+">\s*<button type="submit">Restore this version<\/button>/.exec(versionPage.text)?.[1];

    const posted = await page(backend, action!, form(backend));
    await backend.ingested();
    const after = await versions();
    const shown = await api(backend, 'GET', '/configs/web?content=true');
    const redirected = await page(backend, posted.location!);

    expect(action).toBe(`/configs/web/versions/${first.hashUrl}/restore`);
    expect(posted.status).toBe(303);
    expect(posted.location).toMatch(new RegExp(`^/configs/web/versions/${first.hashUrl}\\?notice=`));
    expect(redirected.text).toMatch(/<p class="notice" role="status">Version [^<]+ of web restored/);
    expect(after.map((v) => v.hash)).toEqual([first.hash, second.hash, first.hash]);
    expect(shown.json.files[0].content).toBe(FIRST);
  });
});

describe('the staged rollout on the agent page', () => {
  let backend: TestBackend;
  let fleet: SimulatedCollector[];

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_EXPECTED_POLL_INTERVAL_SECONDS: '3600', ...UNSTEERED });
    fleet = Array.from({ length: 6 }, () => new SimulatedCollector(backend.opampUrl, { 'service.name': 'checkout' }, undefined, () => backend.clock.advance(1_000)));
    for (const collector of fleet) await collector.agent.sendFullReport();
    // Every agent runs the first version (a promoted rollout), then a second version starts at 50 %.
    await api(backend, 'PUT', '/configs/checkout', { files: { 'collector.yaml': { content: 'receivers: {v: 1}\n' } } });
    await api(backend, 'PUT', '/assignments/checkout', { config: 'checkout', selector: 'service.name=checkout', rollout: { steps: [50, 100], bakeSeconds: 60 } });
    await backend.ingested();
    await backend.rollouts.tick();
    expect((await api(backend, 'POST', '/rollouts/checkout/config/promote')).status).toBe(200);
    await pollRound(fleet);
    await api(backend, 'PUT', '/configs/checkout', { files: { 'collector.yaml': { content: 'receivers: {v: 2}\n' } } });
    await backend.ingested();
    await backend.rollouts.tick();
    await pollRound(fleet);
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('the API names the rollout and the side of each agent; the console and opampctl say where it stands', async () => {
    const views = await Promise.all(fleet.map(async (c) => (await api(backend, 'GET', `/agents/${c.uid}`)).json));
    const inWave = fleet.filter((_, i) => views[i].remoteConfig.desired.rollout?.side === 'to');
    const waiting = fleet.filter((_, i) => views[i].remoteConfig.desired.rollout?.side === 'from');
    const inWavePage = await page(backend, `/agents/${inWave[0]!.uid}`);
    const waitingPage = await page(backend, `/agents/${waiting[0]!.uid}`);
    const cli = await ctl('agent', waiting[0]!.uid);

    expect((await api(backend, 'GET', '/rollouts/checkout/config')).json).toMatchObject({ id: 'checkout.config.2', state: 'running', step: 1 });
    expect(views[0].remoteConfig.desired.rollout).toMatchObject({ id: 'checkout.config.2', state: 'running' });
    expect(views[0].packages.desired).toBeNull();
    expect(inWave).toHaveLength(3);
    expect(waiting).toHaveLength(3);
    expect(inWave.every((c) => c.running?.text.includes('v: 2'))).toBe(true);
    expect(waiting.every((c) => c.running?.text.includes('v: 1'))).toBe(true);
    expect(inWavePage.text).toContain('<dd data-testid="config-rollout">Rollout <a href="/rollouts#rollout-checkout-config"><code>checkout.config.2</code></a>: in a started wave</dd>');
    expect(waitingPage.text).toContain(
      '<dd data-testid="config-rollout">Rollout <a href="/rollouts#rollout-checkout-config"><code>checkout.config.2</code></a>: waiting for its wave (keeps the previous version)</dd>',
    );
    expect((await page(backend, '/rollouts')).text).toContain('<section id="rollout-checkout-config"');
    expect(cli).toContain('config rollout  checkout.config.2: waiting for its wave (keeps the previous version)');
  });
});
