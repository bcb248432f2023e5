import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketClient, uploadObject } from '../support/bucket.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { pollRound, SimulatedCollector } from '../support/simulated-fleet.js';

const BUCKET = 'opamp-local';

/**
 * A rollout policy added to an assignment that already gives its agents a
 * configuration: the first rollout runs from nothing to that configuration,
 * so agents that had not taken it yet (offline while it was uploaded) and sit
 * outside the first step are offered nothing, although the assignment gave
 * them that configuration before the policy came.
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

  // Known behaviour, recorded here until it is decided: the agents that were offline get nothing.
  it.fails('still offers that configuration to its agents that had not taken it yet', async () => {
    await upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout' }));
    await pollRound(fleet.slice(0, 2)); // the other two are offline for now
    await upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'service.name=checkout', rollout: { steps: ['1'], bakeSeconds: 60 } }));

    await pollRound(fleet.slice(2));

    // At most one agent is in the first step ("1" agent), so at least one of the two is left without it.
    expect(fleet.map((c) => c.running?.text)).toEqual(Array(4).fill('receivers: {v: 1}\n'));
  });
});
