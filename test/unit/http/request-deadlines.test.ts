import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { AgentListQuery, AgentPage } from '../../../functions/ports/agent-store.js';
import { AgentQueries } from '../../../functions/service/agent-queries.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { fullReport, newUidBytes } from '../../support/messages.js';
import { LIVENESS, T0, postMessage } from './support.js';

/** A store that never answers the calls named in `silent`. */
class SilentStore extends MemoryAgentStore {
  constructor(private readonly silent: ReadonlySet<string>) {
    super();
  }

  private never<T>(name: string, answer: () => Promise<T>): Promise<T> {
    return this.silent.has(name) ? new Promise<T>(() => {}) : answer();
  }

  override get(instanceUid: string): Promise<AgentRecord | undefined> {
    return this.never('get', () => super.get(instanceUid));
  }

  override list(query: AgentListQuery): Promise<AgentPage> {
    return this.never('list', () => super.list(query));
  }

  override ping(): Promise<void> {
    return this.never('ping', () => super.ping());
  }
}

const DEADLINES = { pollMs: 150, healthMs: 100, apiMs: 150 };

function appOver(agents: MemoryAgentStore) {
  const polls = new PollService({ agents, now: () => T0, newInstanceUid: () => 'unused', options: DEFAULT_CORE_OPTIONS });
  const routes = [fleetApiRoutes({ queries: new AgentQueries(agents, () => T0, LIVENESS) })];
  return createApp({ agents, polls, routes, limits: DEFAULT_HTTP_LIMITS, deadlines: DEADLINES, telemetry: NO_TELEMETRY });
}

async function timed(work: () => Promise<Response>): Promise<{ response: Response; elapsedMs: number }> {
  const started = performance.now();
  const response = await work();
  await response.clone().arrayBuffer();
  return { response, elapsedMs: performance.now() - started };
}

describe('request deadlines at the edge, whatever hangs', () => {
  it('answers a poll 503 with Retry-After when the store never answers', async () => {
    const app = appOver(new SilentStore(new Set(['get'])));

    const { response, elapsedMs } = await timed(() => postMessage(app, fullReport(newUidBytes(), 1n)));

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(DEFAULT_HTTP_LIMITS.retryAfterSeconds));
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('answers /healthz 503 when the store never answers', async () => {
    const app = appOver(new SilentStore(new Set(['ping'])));

    const { response, elapsedMs } = await timed(async () => app.request('/healthz'));

    expect(response.status).toBe(503);
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('answers a fleet API read 503 with Retry-After when the store never answers', async () => {
    const app = appOver(new SilentStore(new Set(['list'])));

    const { response, elapsedMs } = await timed(async () => app.request('/api/v1/agents'));

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(DEFAULT_HTTP_LIMITS.retryAfterSeconds));
    expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('leaves requests that finish in time alone', async () => {
    const app = appOver(new SilentStore(new Set()));

    const polled = await postMessage(app, fullReport(newUidBytes(), 1n));
    const checked = await app.request('/healthz');
    const listed = await app.request('/api/v1/agents');

    expect([polled.status, checked.status, listed.status]).toEqual([200, 200, 200]);
  });
});
