import { afterEach, describe, expect, it } from 'vitest';
import { bucketClient, uploadObject } from '../support/bucket.js';
import { GO_AGENT, runGoAgent } from '../support/go-agent.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('a staged rollout with the Collector OpAMP client (needs the opamp-go test agent)', () => {
  let backend: TestBackend | undefined;
  afterEach(async () => {
    await backend?.close();
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 6_000): Promise<T> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
      const value = await probe();
      if (value !== undefined) return value;
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it.skipIf(!GO_AGENT)('pauses when the real client reports the configuration FAILED', async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
    const running = runGoAgent(['-endpoint', backend.opampUrl, '-poll', '1s', '-duration', '7s', '-service-name', 'checkout', '-reject-config'], 30_000);
    const api = async (path: string) => (await fetch(`${backend!.url}/api/v1${path}`)).json() as Promise<any>;
    await until('the agent', async () => ((await api('/agents')).agents.length === 1 ? true : undefined));

    const s3 = bucketClient(backend.s3Endpoint);
    await uploadObject(s3, 'opamp-local', 'configs/checkout/collector.yaml', 'exporters: {nope: {}}\n');
    await uploadObject(s3, 'opamp-local', 'assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout', rollout: { steps: [100], bakeSeconds: 60 } }));
    await backend.ingested();
    expect(await api('/rollouts/checkout/config')).toMatchObject({ state: 'running', step: 1, counts: { targeted: 1, admitted: 1 } });

    const paused = await until('the pause', async () => {
      await backend!.rollouts.tick();
      const rollout = await api('/rollouts/checkout/config');
      return rollout.state === 'paused' ? rollout : undefined;
    });
    expect(paused.failed).toHaveLength(1);
    expect(paused.reason).toContain('reported FAILED');

    const events = await running;
    expect(events.filter((e) => e.event === 'wire_error' || e.event === 'lib_error')).toEqual([]);
    expect(events.some((e) => e.event === 'remote_config_status_set')).toBe(true);
  });
});
