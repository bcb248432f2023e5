import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DynamoAgentStore } from '../../functions/adapters/dynamodb/agent-store.js';
import { DynamoPresenceStore } from '../../functions/adapters/dynamodb/presence-store.js';
import { S3BlobStore } from '../../functions/adapters/s3/blob-store.js';
import { contentId } from '../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../functions/core/core-options.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import type { LivenessPolicy } from '../../functions/core/liveness.js';
import { presenceKey } from '../../functions/core/presence.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { AgentQueries } from '../../functions/service/agent-queries.js';
import { PollService } from '../../functions/service/poll-service.js';
import { PresenceBatcher } from '../../functions/service/presence-batcher.js';
import { PresenceReader } from '../../functions/service/presence-reader.js';
import { fullReport, heartbeat, newUidBytes } from '../support/messages.js';
import { countCommands, emulatorClients, provisionStores } from './harness.js';

/** Presence batches over the DynamoDB adapter against dynalite: two function instances and the fleet API. */

const T0 = 1_760_000_000_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const WINDOW = MINUTE;
const LIVENESS: LivenessPolicy = { presenceWindowMs: WINDOW, expectedPollIntervalMs: 30 * SECOND, missedPollsBeforeStale: 3 };
const PRESENCE = { windowMs: WINDOW, maxHoldMs: 5 * WINDOW, retentionSeconds: 3600, maxEntriesPerItem: 20_000, maxBufferedEntries: 100_000 };

interface Instance {
  service: PollService;
  presence: PresenceBatcher;
  /** PutItem calls this instance's client sent. */
  puts(): number;
}

async function setup() {
  const stores = await provisionStores();
  const clock = { now: T0 };
  const now = () => clock.now;
  /** One function instance: its own SDK client (counted), poll service and presence batch. */
  const instance = (): Instance => {
    const client = emulatorClients().dynamodb;
    const counts = countCommands(client);
    const agents = new DynamoAgentStore({ client, tableName: stores.tableName, blobs: new S3BlobStore(stores.clients.s3, stores.bucketName) });
    const presence = new PresenceBatcher({ store: new DynamoPresenceStore(client, stores.tableName), now, ...PRESENCE });
    const service = new PollService({ agents, now, newInstanceUid: () => 'unused', options: DEFAULT_CORE_OPTIONS, presence });
    return { service, presence, puts: () => counts.get('PutItemCommand') ?? 0 };
  };
  const reader = new PresenceReader({ store: new DynamoPresenceStore(stores.clients.dynamodb, stores.tableName), now, windowMs: WINDOW, lookbackMs: 20 * MINUTE, cacheMs: 0 });
  const queries = new AgentQueries(stores.agents, now, LIVENESS, undefined, reader);
  return { stores, clock, instance, queries, reader };
}

function poll(instance: Instance, message: AgentToServer) {
  return instance.service.poll(message, contentId(toBinary(AgentToServerSchema, message)));
}

describe('presence batches in DynamoDB', () => {
  it('keeps an agent online and its last-seen time current with no write to its item', async () => {
    // Prepare: one full report, then 20 minutes of heartbeats every 30 s.
    const { stores, clock, instance, queries } = await setup();
    const a = instance();
    const uid = newUidBytes();
    await poll(a, fullReport(uid, 1n));
    const written = await stores.agents.get(instanceUidToText(uid));
    let seq = 1n;
    for (clock.now = T0 + 30 * SECOND; clock.now <= T0 + 20 * MINUTE; clock.now += 30 * SECOND) await poll(a, heartbeat(uid, ++seq));
    const lastPoll = clock.now - 30 * SECOND;

    // Act
    const { agents } = await queries.list({ limit: 10 });

    // Assess
    const stored = await stores.agents.get(instanceUidToText(uid));
    expect(stored?.version).toBe(written?.version);
    expect(stored?.lastSeenAt).toBe(T0);
    expect(agents[0]?.liveness).toBe('online');
    const shown = Date.parse(agents[0]!.lastSeenAt);
    expect(lastPoll - shown).toBeLessThanOrEqual(30 * SECOND + WINDOW);
    // One write for the full report, then a batch per window (a window after the first poll it holds):
    // at most 20 for 20 minutes, at least one per window and poll interval, instead of 40 heartbeat writes.
    expect(a.puts()).toBeGreaterThanOrEqual(1 + Math.floor((20 * MINUTE) / (WINDOW + 30 * SECOND)));
    expect(a.puts()).toBeLessThanOrEqual(1 + 20);
  });

  it('finds agents that only the batches have seen recently, and calls the others stale', async () => {
    // Prepare
    const { clock, instance, queries } = await setup();
    const a = instance();
    const alive = newUidBytes();
    const silent = newUidBytes();
    await poll(a, fullReport(alive, 1n));
    await poll(a, fullReport(silent, 1n));
    let seq = 1n;
    for (clock.now = T0 + 30 * SECOND; clock.now <= T0 + 10 * MINUTE; clock.now += 30 * SECOND) await poll(a, heartbeat(alive, ++seq));

    // Act
    const stale = await queries.list({ limit: 10, liveness: 'stale' });
    const online = await queries.list({ limit: 10, liveness: 'online' });

    // Assess
    expect(stale.agents.map((x) => x.instanceUid)).toEqual([instanceUidToText(silent)]);
    expect(online.agents.map((x) => x.instanceUid)).toEqual([instanceUidToText(alive)]);
  });

  it('loses at most one window of an instance that is recycled before it writes its batch', async () => {
    // Prepare: the agent polls instance A until A is recycled, then instance B.
    const { clock, instance, queries } = await setup();
    const a = instance();
    const uid = newUidBytes();
    await poll(a, fullReport(uid, 1n));
    let seq = 1n;
    for (clock.now = T0 + 30 * SECOND; clock.now <= T0 + 5 * MINUTE; clock.now += 30 * SECOND) await poll(a, heartbeat(uid, ++seq));
    const lastOnA = clock.now - 30 * SECOND;
    const lost = a.presence.pending;

    // Act: A is gone with what it had not written; nothing more is heard for a while.
    clock.now = lastOnA + 30 * SECOND;
    const { agents } = await queries.list({ limit: 10 });

    // Assess
    expect(lost).toBeGreaterThan(0);
    expect(lastOnA - Date.parse(agents[0]!.lastSeenAt)).toBeLessThanOrEqual(WINDOW + 30 * SECOND);
    expect(agents[0]?.liveness).toBe('online');
  });

  it('merges what two instances saw of one agent: the newest poll wins', async () => {
    // Prepare: the agent's polls alternate between two instances.
    const { clock, instance, queries } = await setup();
    const a = instance();
    const b = instance();
    const uid = newUidBytes();
    await poll(a, fullReport(uid, 1n));
    let seq = 1n;
    for (clock.now = T0 + 30 * SECOND; clock.now <= T0 + 6 * MINUTE; clock.now += 30 * SECOND) await poll(seq % 2n ? b : a, heartbeat(uid, ++seq));
    const last = clock.now - 30 * SECOND;

    // Act: both write what they have (as on shutdown).
    await Promise.all([a.presence.flush(), b.presence.flush()]);
    const view = await queries.get(instanceUidToText(uid));

    // Assess
    expect(Date.parse(view!.lastSeenAt)).toBe(Math.floor(last / 1000) * 1000);
    expect(view?.liveness).toBe('online');
    expect(a.presence.stats.items).toBeGreaterThan(0);
    expect(b.presence.stats.items).toBeGreaterThan(0);
  });

  it('writes a full batch of 20,000 agents as one item under the DynamoDB item limit, and reads it back', async () => {
    // Prepare
    const { stores, clock } = await setup();
    const store = new DynamoPresenceStore(stores.clients.dynamodb, stores.tableName);
    const entries = Array.from({ length: 20_000 }, (_, i) => ({
      key: presenceKey(`${i.toString(16).padStart(8, '0')}-0000-7000-8000-${(i * 7919).toString(16).padStart(12, '0')}`),
      seenAt: clock.now + (i % 60) * SECOND,
      intervalSeconds: i % 3 === 0 ? 300 : 30,
    }));

    // Act
    await store.write({ instanceId: 'big', sequence: 1, flushedAt: clock.now + MINUTE - 1, entries }, WINDOW, 2_000_000_000);
    const read = await store.readWindow(Math.floor((clock.now + MINUTE - 1) / WINDOW) * WINDOW);

    // Assess
    expect(read).toHaveLength(20_000);
    expect(new Set(read.map((e) => e.key)).size).toBe(20_000);
  });
});
