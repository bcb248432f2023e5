import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApp } from '../../functions/console/app.js';
import { RemoteConfigStatuses } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { caps, COLLECTOR_CAPS, description, effectiveConfig, fullReport, health } from '../support/messages.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

const RESTARTABLE = COLLECTOR_CAPS | caps('AgentCapabilities_AcceptsRestartCommand');

/** An agent of the given service and environment, reporting a config and its health. */
function agent(backend: TestBackend, service: string, env: string, healthy: boolean): ScriptedAgent {
  return new ScriptedAgent(backend.opampUrl, {
    report: (uid, seq) =>
      fullReport(uid, seq, {
        capabilities: RESTARTABLE,
        agentDescription: description({ 'service.name': service, 'service.version': '1.2.3' }, { 'deployment.environment': env }),
        health: health(healthy, { 'pipeline:traces': healthy, 'exporter:otlp': true }),
        effectiveConfig: effectiveConfig({ 'collector.yaml': `receivers:\n  otlp: {} # ${service}\n` }),
      }),
  });
}

async function page(backend: TestBackend, path: string, init?: RequestInit): Promise<{ status: number; text: string; location: string | null }> {
  const response = await fetch(`${backend.url}${path}`, { redirect: 'manual', ...init });
  return { status: response.status, text: await response.text(), location: response.headers.get('location') };
}

/** A form post as the console's own pages make it (a browser names the page's origin). */
function form(backend: TestBackend, fields: Record<string, string>, origin = backend.url): RequestInit {
  return { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', origin } };
}

describe('the fleet console served by the local backend', () => {
  let backend: TestBackend;
  let checkout: ScriptedAgent;
  let cart: ScriptedAgent;

  beforeAll(async () => {
    backend = await startTestBackend();
    checkout = agent(backend, 'checkout', 'prod', true);
    cart = agent(backend, 'cart', 'staging', false);
    await checkout.sendFullReport();
    await cart.sendFullReport();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('overview counts the agents by liveness, health and version', async () => {
    const { status, text } = await page(backend, '/');
    expect(status).toBe(200);
    expect(text).toContain('<strong data-testid="agent-count">2</strong>');
    expect(text).toMatch(/<th scope="row">healthy<\/th><td class="count">1<\/td>/);
    expect(text).toMatch(/<th scope="row">unhealthy<\/th><td class="count">1<\/td>/);
    expect(text).toMatch(/<th scope="row">1\.2\.3<\/th><td class="count">2<\/td>/);
  });

  it('agents table filters by selector and says so when the selector is bad', async () => {
    const filtered = await page(backend, '/agents?selector=service.name%3Dcart');
    expect(filtered.text).toContain(cart.uidText);
    expect(filtered.text).not.toContain(checkout.uidText);
    const bad = await page(backend, '/agents?selector=%3D%3D%3D');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('The fleet API answered 400');
  });

  it('agent page shows the effective configuration, escaped, and the health tree', async () => {
    const { text } = await page(backend, `/agents/${cart.uidText}`);
    expect(text).toContain('receivers:\n  otlp: {} # cart');
    expect(text).toContain('pipeline:traces');
    expect(text).toContain('<span class="badge bad">unhealthy</span>');
    expect((await page(backend, '/agents/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('an upload from the console reaches the agent on its next poll', async () => {
    const posted = await page(backend, '/configs', form(backend, { name: 'default', file: 'collector.yaml', content: 'receivers:\r\n  hostmetrics: {}\r\n' }));
    expect(posted.status).toBe(303);
    expect(posted.location).toMatch(/^\/configs\?notice=/);
    await backend.ingested();
    backend.clock.advance(60_000);
    const reply = (await checkout.heartbeat(RESTARTABLE)).reply;
    const body = reply?.remoteConfig?.config?.configMap['collector.yaml']?.body;
    expect(new TextDecoder().decode(body)).toBe('receivers:\n  hostmetrics: {}\n');
    expect((await page(backend, '/configs')).text).toContain('collector.yaml');
    await checkout.send({ capabilities: RESTARTABLE, remoteConfigStatus: { lastRemoteConfigHash: reply!.remoteConfig!.configHash, status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED } });
    expect((await page(backend, '/')).text).toMatch(/<td><a href="\/configs#config-default">default<\/a><\/td><td>1 of 2<\/td>/);
  });

  it('a bad upload comes back as an error and writes nothing', async () => {
    const posted = await page(backend, '/configs', form(backend, { name: 'bad name!', file: 'x.yaml', content: 'a' }));
    expect(posted.location).toMatch(/^\/configs\?error=400/);
    expect((await page(backend, '/configs')).text).not.toContain('bad name!');
  });

  it('a restart from the console reaches the agent', async () => {
    const posted = await page(backend, `/agents/${checkout.uidText}/restart`, form(backend, {}));
    expect(posted.status).toBe(303);
    expect(posted.location).toContain('notice=');
    const reply = (await checkout.heartbeat(RESTARTABLE)).reply;
    expect(reply?.command?.type).toBeDefined();
    expect((await page(backend, `/agents/${checkout.uidText}`)).text).toMatch(/data-testid="last-command">[^<]*Restart/i);
  });

  it('refuses a form post from another site and queues nothing', async () => {
    const posted = await page(backend, `/agents/${cart.uidText}/restart`, form(backend, {}, 'http://evil.example'));
    expect(posted.status).toBe(403);
    expect((await page(backend, `/agents/${cart.uidText}`)).text).toMatch(/data-testid="pending-command"><span class="muted">none/);
  });

  it('tokens and certificates page lists both', async () => {
    const { status, text } = await page(backend, '/credentials');
    expect(status).toBe(200);
    expect(text).toContain('Agent tokens');
    expect(text).toContain('No certificates.');
  });

  it('the API and the agent endpoint stay where they were', async () => {
    expect((await page(backend, '/healthz')).status).toBe(200);
    expect((await page(backend, '/api/v1/agents')).text).toContain('"agents"');
  });
});

describe('the agents table pages with the API cursor', () => {
  it('walks every agent once, a page at a time, keeping the filter', async () => {
    const backend = await startTestBackend();
    try {
      const agents = [agent(backend, 'a', 'prod', true), agent(backend, 'b', 'prod', true), agent(backend, 'c', 'prod', true), agent(backend, 'd', 'dev', true)];
      for (const a of agents) await a.sendFullReport();
      const app = createConsoleApp({ apiBaseUrl: 'http://in-process', fetch: async (request) => backend.app.fetch(request), agentsPerPage: 2 });
      const seen: string[] = [];
      let path: string | undefined = '/agents?selector=deployment.environment%3Dprod';
      let pages = 0;
      while (path) {
        const text = await (await app.request(path)).text();
        pages += 1;
        for (const a of agents) if (text.includes(`<code>${a.uidText}</code>`)) seen.push(a.uidText);
        path = /<a href="([^"]+)" rel="next">/.exec(text)?.[1]?.replace(/&amp;/g, '&');
        if (path) expect(path).toContain('selector=deployment.environment%3Dprod');
      }
      expect(pages).toBe(2);
      expect(seen.sort()).toEqual(
        agents
          .slice(0, 3)
          .map((a) => a.uidText)
          .sort(),
      );
    } finally {
      await backend.close();
    }
  });
});

describe('the console on a fleet API that is unreachable', () => {
  it('shows the reason instead of failing', async () => {
    const app = createConsoleApp({ apiBaseUrl: 'http://127.0.0.1:9', fetch: (request) => fetch(request) });
    const response = await app.request('/');
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('cannot reach the fleet API');
  });
});
