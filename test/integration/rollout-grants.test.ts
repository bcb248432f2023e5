import { beforeEach, describe, expect, it } from 'vitest';
import { FLEET_API_ACCESS, INGEST_ACCESS, ROLLOUTS_ACCESS } from '../../cdk/lib/data-access.js';
import { loadConfig } from '../../functions/config.js';
import { createBucketIngest } from '../../functions/entry/bucket-ingest.js';
import { createRolloutEngine } from '../../functions/entry/rollouts.js';
import { createStores } from '../../functions/entry/stores.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { PresenceReader } from '../../functions/service/presence-reader.js';
import { stageChanges } from '../../functions/service/rollouts/rollout-engine.js';
import { uploadObject } from '../support/bucket.js';
import { countCommands, emulatorClients, minimalRecord, newUid, provisionStores } from './harness.js';

/**
 * The rollout engine over the wire, wired as rollouts.lambda.ts and
 * ingest.lambda.ts wire it: every call it makes must be one the stack grants
 * that function (cdk/lib/data-access.ts), or the deployed function fails
 * with AccessDenied where the tests pass.
 */

const POLICY = { steps: [50, 100], bakeSeconds: 60 };
const AGENTS = 4;

async function setup() {
  const stores = await provisionStores();
  const clients = emulatorClients();
  const ddb = countCommands(clients.dynamodb);
  const s3 = countCommands(clients.s3);
  const clock = { now: Date.UTC(2026, 0, 5, 9) };
  const config = loadConfig({ OPAMP_TABLE: stores.tableName, OPAMP_BUCKET: stores.bucketName, OPAMP_STATE_BUCKET: stores.stateBucketName });
  const wiring = { config, stores: createStores(config, clients), telemetry: NO_TELEMETRY, now: () => clock.now };
  const engine = createRolloutEngine(wiring, new PresenceReader({ store: wiring.stores.presence, now: () => clock.now, ...config.presence }));
  const ingest = createBucketIngest(wiring);
  // Uploads through the test's own client: the operator's calls, not the function's.
  const upload = async (key: string, body: string) => {
    await uploadObject(stores.clients.s3, stores.bucketName, key, body);
    return ingest.handleEvent([{ eventName: 'ObjectCreated:Put', s3: { object: { key, sequencer: `00${Date.now().toString(16)}` } } }]);
  };
  for (let i = 0; i < AGENTS; i++) {
    await stores.agents.put({ record: minimalRecord(newUid(), { attributes: { team: 'checkout' }, firstSeenAt: clock.now, lastSeenAt: clock.now }), expectedVersion: 0 });
  }
  const calls = () => ({ ddb: names(ddb), s3: names(s3) });
  const reset = () => {
    ddb.clear();
    s3.clear();
  };
  return { engine, upload, calls, reset };
}

function names(counts: Map<string, number>): string[] {
  return [...counts.keys()].map((name) => name.replace(/Command$/, '')).sort();
}

describe('the grants of the functions that run the rollout engine', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });

  it('the scheduled function: a tick that starts a rollout and its first step calls only what ROLLOUTS_ACCESS grants, and no S3', async () => {
    await ctx.upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    await ctx.upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'team=checkout', rollout: POLICY }));
    ctx.reset();

    const { started, evaluated } = await ctx.engine.tick();

    expect(started).toHaveLength(1);
    expect(evaluated[0]).toMatchObject({ state: 'running', step: 0, counts: { targeted: AGENTS } });
    expect(evaluated[0]!.cutoff).toBeGreaterThan(0);
    const { ddb, s3 } = ctx.calls();
    // Every kind of call the engine makes took place, so the comparison below covers them all.
    expect(ddb).toEqual(expect.arrayContaining(['PutItem', 'Query', 'Scan', 'UpdateItem']));
    expect(ddb.filter((name) => !ROLLOUTS_ACCESS.table.includes(name as never))).toEqual([]);
    expect(s3).toEqual([]);
    expect(ROLLOUTS_ACCESS.objects).toEqual([]);
  });

  it('the ingest function: recording a change and staging the rollout it calls for calls only what INGEST_ACCESS grants', async () => {
    await ctx.upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    ctx.reset();

    const outcomes = await ctx.upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'team=checkout', rollout: POLICY }));
    await stageChanges(ctx.engine);

    expect(outcomes).toContain('recorded');
    expect((await ctx.engine.list()).map((r) => r.state)).toEqual(['running']);
    const { ddb, s3 } = ctx.calls();
    expect(ddb).toEqual(expect.arrayContaining(['Scan', 'PutItem', 'UpdateItem']));
    expect(ddb.filter((name) => !INGEST_ACCESS.table.includes(name as never))).toEqual([]);
    // ListObjectsV2 is the ListBucket permission.
    const granted = new Set([...INGEST_ACCESS.objects.flatMap((grant) => grant.actions), ...(INGEST_ACCESS.list ? ['ListObjectsV2'] : [])]);
    expect(s3.filter((name) => !granted.has(name as never))).toEqual([]);
  });

  it('the fleet API: looking at a rollout (which evaluates it) and acting on it calls only what FLEET_API_ACCESS grants', async () => {
    await ctx.upload('configs/checkout/collector.yaml', 'receivers: {v: 1}\n');
    await ctx.upload('assignments/checkout.json', JSON.stringify({ config: 'checkout', selector: 'team=checkout', rollout: POLICY }));
    await ctx.engine.tick();
    ctx.reset();

    await ctx.engine.get('checkout', 'config');
    const paused = await ctx.engine.act('checkout', 'config', 'pause', 'operator');

    expect(paused?.state).toBe('paused');
    const { ddb, s3 } = ctx.calls();
    expect(ddb).toEqual(expect.arrayContaining(['Scan', 'PutItem', 'UpdateItem']));
    expect(ddb.filter((name) => !FLEET_API_ACCESS.table.includes(name as never))).toEqual([]);
    expect(s3).toEqual([]);
  });
});
