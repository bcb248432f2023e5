import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoFleet } from '../../scripts/demo/fleet.js';
import { OLD_VERSION } from '../../scripts/demo/profiles.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';

const COUNT = 10;

async function api<T>(backend: TestBackend, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${backend.url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

interface Agent {
  instanceUid: string;
  attributes: Record<string, string>;
  capabilities: string[];
}

describe('demo agents against the local backend', () => {
  let backend: TestBackend;
  let fleet: DemoFleet;
  const events: string[] = [];
  // A fixed sequence instead of Math.random: which agents flap and when is the same on every run.
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

  beforeAll(async () => {
    backend = await startTestBackend();
    fleet = new DemoFleet({
      endpoint: backend.opampUrl,
      count: COUNT,
      intervalSeconds: 0.1,
      maxIntervalSeconds: 0.1,
      random,
      prefix: 'demo-test',
      log: (agent, line) => events.push(`${agent.profile.index} ${line}`),
    });
    await fleet.start();
  });
  afterAll(async () => {
    await fleet?.stop();
    await backend?.close();
  });

  it('registers every agent with varied services, environments, versions and kinds', async () => {
    const { agents } = await api<{ agents: Agent[] }>(backend, 'GET', '/agents');
    expect(agents).toHaveLength(COUNT);
    expect(new Set(agents.map((a) => a.attributes['service.name'])).size).toBeGreaterThan(4);
    expect(new Set(agents.map((a) => a.attributes['deployment.environment'])).size).toBe(3);
    expect(new Set(agents.map((a) => a.attributes['service.version']))).toContain(OLD_VERSION);
    const restartable = agents.filter((a) => a.capabilities.some((c) => c.includes('AcceptsRestartCommand')));
    expect(restartable.length).toBe(COUNT - 2);
  });

  it('applies an uploaded configuration, except the old Collector, which reports it FAILED', async () => {
    await api(backend, 'PUT', '/configs/default', { files: { 'collector.yaml': { content: 'receivers:\n  hostmetrics: {}\n' } } });
    await backend.ingested();
    // The backend's clock stands still: move it past the fleet cache's revalidation.
    backend.clock.advance(60_000);
    const rollout = await eventually(
      () => api<{ applied: number; failed: number; agents: Array<{ state: string; errorMessage: string | null }> }>(backend, 'GET', '/configs/default/rollout'),
      (r) => r.applied + r.failed === COUNT - 2,
      'rollout',
    );
    expect(rollout.failed).toBe(1);
    expect(rollout.agents.find((a) => a.state === 'failed')?.errorMessage).toContain(`collector ${OLD_VERSION} cannot load this configuration`);
    const uid = fleet.agents[0]!.instanceUid;
    const detail = await api<{ effectiveConfig: { files: Record<string, { body: string }> } }>(backend, 'GET', `/agents/${uid}`);
    expect(detail.effectiveConfig.files['collector.yaml']?.body).toBe('receivers:\n  hostmetrics: {}\n');
  });

  it('takes a restart and echoes a custom message', async () => {
    const uid = fleet.agents[0]!.instanceUid;
    await api(backend, 'POST', `/agents/${uid}/restart`);
    await api(backend, 'POST', `/agents/${uid}/messages`, { capability: 'io.opentelemetry.demo.echo', type: 'ping', data: 'hello' });
    const messages = await eventually(
      () => api<{ received: Array<{ type: string; data: string }> }>(backend, 'GET', `/agents/${uid}/messages`),
      (m) => m.received.length > 0,
      'echo',
    );
    expect(Buffer.from(messages.received[0]!.data, 'base64').toString()).toBe('hello');
    const detail = await api<{ commands: { last: { deliveredAt: string | null } | null } }>(backend, 'GET', `/agents/${uid}`);
    expect(detail.commands.last?.deliveredAt).not.toBeNull();
    expect(events).toContain('0 restarted');
  });

  it('downloads an assigned agent package, checks it and upgrades itself', async () => {
    const content = 'collector binary 0.142.0';
    const { file } = await api<{ file: string }>(backend, 'POST', '/packages/_agent/0.142.0/upload', { file: 'otelcol.tar.gz' });
    expect((await fetch(file, { method: 'PUT', body: content })).ok).toBe(true);
    await api(backend, 'PUT', '/assignments/upgrade-checkout', { packages: { _agent: '0.142.0' }, selector: 'service.name=checkout' });
    await backend.ingested();
    backend.clock.advance(60_000);
    const checkout = fleet.agents.filter((a) => a.profile.service === 'checkout' && a.profile.kind === 'collector');
    const rollout = await eventually(
      () => api<{ installed: number; matched: number }>(backend, 'GET', '/packages/_agent/0.142.0/rollout'),
      (r) => r.installed === checkout.length,
      'package rollout',
    );
    expect(rollout.matched).toBe(checkout.length);
    const { agents } = await api<{ agents: Agent[] }>(backend, 'GET', '/agents?selector=service.name%3Dcheckout');
    expect(agents.map((a) => a.attributes['service.version'])).toEqual(checkout.map(() => '0.142.0'));
  });

  it('takes connection settings and reports them applied', async () => {
    await api(backend, 'PUT', '/settings/default', { opamp: { heartbeat: { idleSeconds: 1, pendingSeconds: 0 } } });
    await backend.ingested();
    backend.clock.advance(60_000);
    const uid = fleet.agents[0]!.instanceUid;
    const detail = await eventually(
      () => api<{ connectionSettingsStatus: { status: string } | null }>(backend, 'GET', `/agents/${uid}`),
      (d) => d.connectionSettingsStatus !== null,
      'settings status',
    );
    expect(detail.connectionSettingsStatus?.status).toMatch(/APPLIED/);
  });

  it("flaps some agents' health", () => {
    expect(events.some((e) => e.endsWith('exporter failing'))).toBe(true);
  });
});

describe('npm run demo', () => {
  it('refuses a bad count with one line', async () => {
    const result = await runDemo(['--count', 'many']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('demo: --count takes a number of agents from 1 to 10000, not many');
  });

  it('runs until interrupted, then stops cleanly', async () => {
    const backend = await startTestBackend();
    try {
      const result = await runDemo(['--count', '3', '--url', backend.url, '--quiet'], (stdout) => stdout.includes('Ctrl-C stops them'));
      expect(result.stdout).toContain(`3 demo agents polling ${backend.url}/v1/opamp`);
      expect(result.stdout, JSON.stringify(result)).toContain('stopped 3 demo agents');
      expect(result.code).toBe(0);
      expect((await api<{ agents: unknown[] }>(backend as TestBackend, 'GET', '/agents')).agents).toHaveLength(3);
    } finally {
      await backend.close();
    }
  });
});

const root = resolve(import.meta.dirname, '../..');

function runDemo(args: string[], interruptWhen?: (stdout: string) => boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo/run.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && interruptWhen?.(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code, signal) => done({ code, stdout, stderr: stderr + (signal ?? '') }));
  });
}
