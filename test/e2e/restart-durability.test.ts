import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteConfigStatuses, RemoteConfigStatusSchema, ServerToAgentFlags } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { isRunning, launchBackend } from '../support/local-backend.js';
import type { BackendProcess } from '../support/local-backend.js';
import { COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { hasFlag, ScriptedAgent } from '../support/scripted-agent.js';
import type { ExchangeResult } from '../support/scripted-agent.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

async function start(env: Record<string, string>): Promise<BackendProcess> {
  const started = await launchBackend(env);
  if (!isRunning(started)) throw new Error(`the backend did not start (exit ${started.code}): ${started.stderr}`);
  return started;
}

async function json<T = any>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  expect(response.status, `${init?.method ?? 'GET'} ${url}: ${response.status}`).toBeLessThan(300);
  return (await response.json()) as T;
}

/** What the fleet API shows of everything the backend keeps: it must read the same after a restart. */
async function fleetState(url: string) {
  const agents = (await json(`${url}/api/v1/agents`)).agents as Array<Record<string, unknown>>;
  return {
    agents: agents.map(({ instanceUid, sequenceNum, token, attributes, capabilities, firstSeenAt, lastSeenAt }) => ({
      instanceUid,
      sequenceNum,
      token,
      attributes,
      capabilities,
      firstSeenAt,
      lastSeenAt,
    })),
    views: await Promise.all(
      agents.map(async (a) => {
        const { remoteConfigStatus, effectiveConfig, description: agentDescription } = await json(`${url}/api/v1/agents/${a.instanceUid}`);
        return { remoteConfigStatus, effectiveConfig, agentDescription };
      }),
    ),
    configs: await json(`${url}/api/v1/configs`),
    config: await json(`${url}/api/v1/configs/prod`),
    assignments: await json(`${url}/api/v1/assignments`),
    tokens: await json(`${url}/api/v1/tokens`),
  };
}

describe('the local backend stopped and started again on the same data directory', () => {
  let backend: BackendProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'opamp-restart-'));
  afterAll(async () => {
    await backend?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  // One sequence (stopped with SIGTERM, then killed), as each start of a backend process takes seconds.
  it('keeps agents, configurations, assignments and tokens, and its agents poll on with no full-state request', async () => {
    // Heartbeats write nothing (liveness goes to presence batches), so the stored sequence number
    // trails the agents'; the gap allowance covers the polls that fit the elapsed time. Each restart
    // takes seconds, so a 1 s poll interval lets one heartbeat per restart through, as real agents' do.
    const env = {
      OPAMP_DATA_DIR: dataDir,
      OPAMP_PORT: String(await freePort()),
      OPAMP_AGENT_AUTH: 'token',
      OPAMP_FLEET_REVALIDATE_SECONDS: '0',
      OPAMP_MIN_POLL_INTERVAL_SECONDS: '1',
    };
    backend = await start(env);
    const { url, opampUrl } = backend;
    const { token } = await json<{ token: string }>(`${url}/api/v1/tokens`, { method: 'POST', body: JSON.stringify({ name: 'fleet' }) });
    await json(`${url}/api/v1/configs/prod`, { method: 'PUT', body: JSON.stringify({ files: { 'collector.yaml': { content: 'receivers:\n  otlp: {}\n' } } }) });
    await json(`${url}/api/v1/assignments/prod`, { method: 'PUT', body: JSON.stringify({ config: 'prod', selector: 'deployment.environment=prod' }) });
    const agents = ['checkout', 'cart', 'search'].map(
      (service) =>
        new ScriptedAgent(opampUrl, {
          headers: { authorization: `Bearer ${token}` },
          report: (uid, seq) => fullReport(uid, seq, { capabilities: COLLECTOR_CAPS, agentDescription: description({ 'service.name': service }, { 'deployment.environment': 'prod' }) }),
        }),
    );
    for (const agent of agents) {
      let offer: ExchangeResult = await agent.sendFullReport();
      expect(offer.status).toBe(200);
      // The configuration reaches the agents once the bucket change is ingested.
      for (let attempt = 0; attempt < 50 && !offer.reply?.remoteConfig; attempt += 1) {
        await sleep(100);
        offer = await agent.heartbeat();
      }
      expect(offer.reply?.remoteConfig, 'the configuration was not offered').toBeDefined();
      const applied = await agent.send({
        capabilities: COLLECTOR_CAPS,
        remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: offer.reply!.remoteConfig!.configHash, status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED }),
      });
      expect(applied.status).toBe(200);
    }
    const before = await fleetState(url);
    expect(before.agents).toHaveLength(3);
    expect(before.views.map((v) => v.remoteConfigStatus?.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    expect(before.tokens.tokens.map((t: { name: string }) => t.name)).toEqual(['fleet']);

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const stopped = await backend.stop(signal);
      backend = await start(env);
      const after = await fleetState(backend.url);
      const polls = await Promise.all(agents.map((agent) => agent.heartbeat()));

      expect(stopped.code, signal).toBe(signal === 'SIGTERM' ? 0 : null);
      expect(backend.url).toBe(url);
      expect(after, `after ${signal}`).toEqual({ ...before, agents: after.agents });
      // Heartbeats that change nothing write nothing, except last-seen now and then.
      expect(
        after.agents.map(({ lastSeenAt: _, ...a }) => a),
        `after ${signal}`,
      ).toEqual(before.agents.map(({ lastSeenAt: _, ...a }) => a));
      // The token still admits the agents, which are neither asked for their full state nor sent their configuration again.
      expect(
        polls.map((p) => p.status),
        `after ${signal}`,
      ).toEqual([200, 200, 200]);
      for (const poll of polls) {
        expect(hasFlag(poll.reply, ServerToAgentFlags.ServerToAgentFlags_ReportFullState), `after ${signal}`).toBe(false);
        expect(poll.reply?.remoteConfig, `after ${signal}`).toBeUndefined();
      }
    }
  }, 180_000);
});
