import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoFleet } from '../../scripts/demo/fleet.js';
import { demoProfiles } from '../../scripts/demo/profiles.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';

/** Debian's chromium package; the suite is skipped, saying why, on a machine without it. */
function chromiumPath(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const executablePath = chromiumPath();
if (!executablePath) console.warn('browser tests skipped: no chromium on PATH (apt-get install -y chromium)');

const COUNT = 12;
const PREFIX = 'browser';
const SHOTS = resolve(import.meta.dirname, '../../test-output/console');

describe.skipIf(!executablePath)('the fleet console in Chromium', () => {
  let backend: TestBackend;
  let fleet: DemoFleet;
  let browser: Browser;
  let page: Page;
  const profiles = demoProfiles(COUNT, PREFIX);
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    backend = await startTestBackend();
    fleet = new DemoFleet({ endpoint: backend.opampUrl, count: COUNT, intervalSeconds: 0.2, maxIntervalSeconds: 0.2, prefix: PREFIX });
    await fleet.start();
    // Root has no user namespaces for Chromium's sandbox in CI containers.
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1366, height: 800 }, baseURL: backend.url });
    // The restart button asks for confirmation.
    page.on('dialog', (dialog) => void dialog.accept());
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await backend?.close();
  });

  it("overview shows the demo fleet's counts", async () => {
    await page.goto('/');
    expect(await page.getByTestId('agent-count').textContent()).toBe(String(COUNT));
    const liveness = page.getByRole('region', { name: 'Liveness' });
    expect(await liveness.getByRole('row', { name: /online/ }).textContent()).toContain(String(COUNT));
    const versions = page.getByRole('region', { name: 'Agent version' });
    expect(await versions.getByRole('row').count()).toBe(new Set(profiles.map((p) => p.version)).size);
    await shot('overview');
  });

  it('agents table filters by selector, from the keyboard', async () => {
    await page.goto('/agents');
    expect(await page.locator('tbody tr').count()).toBe(COUNT);
    await page.getByLabel('Selector').fill('service.name=checkout');
    await page.getByLabel('Selector').press('Enter');
    await page.waitForURL(/selector=service\.name%3Dcheckout/);
    const checkout = profiles.filter((p) => p.service === 'checkout');
    expect(await page.locator('tbody tr').count()).toBe(checkout.length);
    for (const p of checkout) expect(await page.locator('tbody').textContent()).toContain(p.instanceUid);
    await shot('agents-filtered');
  });

  it('agent page shows the effective configuration and the health tree', async () => {
    const agent = profiles[0]!;
    await page.goto('/agents');
    await page.getByRole('link', { name: agent.instanceUid }).click();
    await page.waitForURL(`**/agents/${agent.instanceUid}`);
    expect(await page.getByTestId('effective-config').first().textContent()).toContain('receivers:');
    const tree = page.getByTestId('health-tree');
    expect(await tree.textContent()).toContain('exporter:otlp');
    expect(await tree.textContent()).toContain('pipeline:traces');
    await shot('agent');
  });

  it('an upload through the console reaches an agent', async () => {
    await page.goto('/configs');
    await page.getByLabel('Configuration name').fill('default');
    await page.getByLabel('File name').fill('collector.yaml');
    await page.getByLabel('Content').fill('receivers:\n  hostmetrics: {}\n');
    await page.getByRole('button', { name: 'Upload' }).click();
    expect(await page.getByRole('status').textContent()).toContain('Configuration default uploaded');
    await backend.ingested();
    // The backend's clock stands still: move it past the fleet cache's revalidation.
    backend.clock.advance(60_000);
    const agent = profiles[0]!;
    await expect
      .poll(
        async () => {
          await page.goto(`/agents/${agent.instanceUid}`);
          return page.getByTestId('effective-config').first().textContent();
        },
        { timeout: 10_000 },
      )
      .toContain('hostmetrics');
    await page.goto('/configs');
    expect(await page.locator('[data-config="default"]').textContent()).toMatch(/1 failed/);
    await shot('configs');
  });

  it('configuration history: a version page with its diff, and a restore', async () => {
    await page.goto('/configs');
    await page.getByLabel('Configuration name').fill('default');
    await page.getByLabel('File name').fill('collector.yaml');
    await page.getByLabel('Content').fill('receivers:\n  hostmetrics: {}\n  otlp: {} # <b>not bold</b>\n');
    await page.getByRole('button', { name: 'Upload' }).click();
    await backend.ingested();
    await page.goto('/configs');
    const history = page.locator('[data-config="default"]').getByTestId('config-history');
    await history.locator('summary').click();
    expect(await history.getByTestId('config-version').count()).toBe(2);
    await history.getByRole('link').first().click();
    await page.waitForURL(/\/configs\/default\/versions\//);
    const diff = page.getByTestId('version-diff');
    expect(await diff.locator('ins').allTextContents()).toEqual(['+  otlp: {} # <b>not bold</b>']);
    expect(await diff.getAttribute('aria-label')).toContain('Changes of default');
    await shot('config-version');
    await page
      .getByRole('link', { name: /^[A-Za-z0-9_-]{12}$/ })
      .first()
      .click();
    await page.getByRole('button', { name: 'Restore this version' }).click();
    expect(await page.getByRole('status').textContent()).toContain('restored');
    await backend.ingested();
    await page.goto('/configs');
    await page.locator('[data-config="default"]').getByTestId('config-history').locator('summary').click();
    expect(await page.locator('[data-config="default"]').getByTestId('config-version').count()).toBe(3);
  });

  it('a restart from the console reaches an agent that accepts it', async () => {
    const agent = profiles[0]!;
    await page.goto(`/agents/${agent.instanceUid}`);
    await page.getByRole('button', { name: 'Restart' }).click();
    expect(await page.getByRole('status').textContent()).toContain('Restart queued');
    await expect
      .poll(
        async () => {
          await page.goto(`/agents/${agent.instanceUid}`);
          return page.getByTestId('last-command').textContent();
        },
        { timeout: 10_000 },
      )
      .toMatch(/restart.*delivered/i);
    await shot('agent-restarted');
    const sdk = profiles.find((p) => p.kind === 'sdk')!;
    await page.goto(`/agents/${sdk.instanceUid}`);
    expect(await page.getByRole('button', { name: 'Restart' }).isDisabled()).toBe(true);
  });

  it('staged rollouts page: progress, and pause and resume from the keyboard', async () => {
    // The demo's old Collector refuses every configuration: the policy tolerates it.
    const env = profiles[0]!.environment;
    const response = await fetch(`${backend.url}/api/v1/assignments/staged`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ config: 'default', selector: `deployment.environment=${env}`, rollout: { steps: [50, 100], bakeSeconds: 600, maxFailed: COUNT } }),
    });
    expect(response.status).toBe(202);
    await backend.ingested();
    await backend.rollouts.tick();
    await page.goto('/rollouts');
    const section = page.getByRole('region', { name: 'Rollout staged.config.1' });
    expect(await section.getByRole('heading').textContent()).toContain('running');
    await section.getByRole('button', { name: 'Pause' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.getByRole('status').textContent()).toContain('is paused');
    await page.getByRole('region', { name: 'Rollout staged.config.1' }).getByRole('button', { name: 'Resume' }).click();
    expect(await page.getByRole('status').textContent()).toContain('is running');
    await shot('rollouts');
    await page.goto('/');
    expect(await page.getByRole('link', { name: 'staged (config)' }).isVisible()).toBe(true);
  });

  it('tokens and certificates page', async () => {
    await page.goto('/credentials');
    expect(await page.getByRole('heading', { name: 'Agent tokens' }).isVisible()).toBe(true);
    await shot('credentials');
  });
});
