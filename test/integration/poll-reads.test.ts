import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { contentId } from '../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../functions/core/core-options.js';
import { DynamoTokenStore } from '../../functions/adapters/dynamodb/token-store.js';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { AgentAuthenticator, TokenAdmin } from '../../functions/service/agent-tokens.js';
import { FleetStateCache } from '../../functions/service/fleet-cache.js';
import { PollService } from '../../functions/service/poll-service.js';
import { fullReport, heartbeat, newUidBytes } from '../support/messages.js';
import { countCommands, emulatorClients, provisionStores } from './harness.js';

/** How many read calls a poll makes, with the per-instance caches fresh and due. */
describe('reads per poll', () => {
  it('is one call: a GetItem, or one BatchGetItem that also revalidates the fleet and token caches', async () => {
    // Prepare
    const clients = emulatorClients();
    const counts = countCommands(clients.dynamodb);
    const stores = await provisionStores({ clients });
    const clock = { now: 1_760_000_000_000 };
    const tokenStore = new DynamoTokenStore(clients.dynamodb, stores.tableName);
    const { token } = await new TokenAdmin(tokenStore, () => clock.now).create('fleet');
    const fleet = new FleetStateCache(new DynamoFleetStore(clients.dynamodb, stores.tableName), () => clock.now, 10_000, NO_TELEMETRY);
    const auth = new AgentAuthenticator(tokenStore, () => clock.now, 10_000, NO_TELEMETRY);
    const service = new PollService({
      agents: stores.agents,
      now: () => clock.now,
      newInstanceUid: () => 'unused',
      options: DEFAULT_CORE_OPTIONS,
      fleet,
      tokens: auth.revalidation,
    });
    const uid = newUidBytes();
    const poll = async (message: ReturnType<typeof heartbeat>) => {
      const verify =
        auth.check(`Bearer ${token}`).verdict === 'revalidate'
          ? async () => {
              if (!(await auth.verify(`Bearer ${token}`))) throw new Error('refused');
            }
          : undefined;
      return service.poll(message, contentId(toBinary(AgentToServerSchema, message)), { authorize: verify });
    };
    await poll(fullReport(uid, 0n)); // warms both caches
    const reads = () => ['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand'].reduce((sum, name) => sum + (counts.get(name) ?? 0), 0);

    // Act: a heartbeat with fresh caches, then one after the revalidation interval.
    let before = reads();
    clock.now += 5_000;
    await poll(heartbeat(uid, 1n));
    const freshReads = reads() - before;
    const freshBatch = counts.get('BatchGetItemCommand') ?? 0;
    before = reads();
    clock.now += 30_000;
    await poll(heartbeat(uid, 2n));
    const dueReads = reads() - before;

    // Assess
    expect(freshReads).toBe(1);
    expect(dueReads).toBe(1);
    expect((counts.get('BatchGetItemCommand') ?? 0) - freshBatch).toBe(1);
  });
});
