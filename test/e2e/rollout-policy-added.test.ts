import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketClient, uploadObject } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { pollRound, SimulatedCollector } from '../support/simulated-fleet.js';

const BUCKET = 'opamp-local';

/**
 * A rollout policy added to an assignment that already gives its agents a
 * configuration takes nothing away: every agent keeps getting that
 * configuration, agents that were offline when it was uploaded included, and
 * the next change is the first one staged.
 */
describe('a rollout policy added to an assignment that already delivers a configuration', () => {
  let backend: TestBackend;
  let s3: S3Client;
  let fleet: SimulatedCollector[];

  beforeEach(async () => {
    backend = await startTestBackend({ OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_EXPECTED_POLL_INTERVAL_SECONDS: '3600' });
    s3 = bucketClient(backend.s3Endpoint);
    fleet = Array.from({ length: 4 }, () => new SimulatedCollector(backend.opampUrl, { 'service.name': 'checkout' }));
    for (const collector of fleet) await collector.agent.sendFullReport();
  });
  afterEach(async () => {
    await backend.close();
  });

  async function upload(key: string, body: string): Promise<void> {
    await uploadObject(s3, BUCKET, key, body);
    await backend.ingested();
  }

  it('still offers that configuration to its agents that had not taken it yet, and stages the next change', async () => {
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout' }));
    await pollRound(fleet.slice(0, 2)); // the other two are offline for now
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout', rollout: { steps: ['1'], bakeSeconds: 60 } }));

    await pollRound(fleet.slice(2));

    expect(fleet.map((c) => c.running?.text)).toEqual(Array(4).fill('receivers: {v: 1}\n'));

    // The next change goes to the first step's one agent only.
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 2}\n');
    await backend.rollouts.tick();
    const offered = await pollRound(fleet);
    expect([...offered.values()]).toEqual(['receivers: {v: 2}\n']);
    const rollout = (await (await fetch(`${backend.url}/api/v1/rollouts/checkout/config`)).json()) as { id: string; from: { description: string } };
    expect(rollout.id).toBe('checkout.config.2');
    expect(rollout.from.description).toContain('checkout');
  });
});
