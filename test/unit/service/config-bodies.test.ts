import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { ConfigFileMeta, ConfigMeta, FleetState } from '../../../functions/core/fleet.js';
import { configHash } from '../../../functions/core/config-hash.js';
import { instanceUidToText } from '../../../functions/core/instance-uid.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { ConfigBodyCache, ConfigContentChangedError } from '../../../functions/service/config-bodies.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { fullReport, heartbeat } from '../../support/messages.js';
import { AGENT_UID, digestOf } from '../core/fixtures.js';
import { MemoryObjectStore, sha256Hex } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** Uploads the files and returns the metadata the ingest would record for them. */
async function upload(objects: MemoryObjectStore, name: string, files: Record<string, { body: string; contentType?: string }>): Promise<ConfigMeta> {
  const metas: ConfigFileMeta[] = [];
  for (const [fileName, { body, contentType }] of Object.entries(files)) {
    const objectKey = `configs/${name}/${fileName}`;
    await objects.put(objectKey, body);
    const stored = await objects.getObject(objectKey);
    metas.push({ fileName, objectKey, sha256: sha256Hex(body), size: Buffer.byteLength(body), contentType: contentType ?? 'text/yaml', versionId: stored?.versionId });
  }
  objects.gets.length = 0;
  return { name, hash: configHash(metas), files: metas };
}

describe('ConfigBodyCache', () => {
  it('loads every file into an AgentConfigMap with the recorded content types', async () => {
    // Prepare
    const objects = new MemoryObjectStore();
    await objects.put('configs/checkout/extra.json', '{}', 'text/plain');
    const config = await upload(objects, 'checkout', {
      'collector.yaml': { body: 'receivers: {}', contentType: 'text/yaml' },
      'processors/batch.json': { body: '{"batch": {}}', contentType: 'application/json' },
    });
    const cache = new ConfigBodyCache(objects, 1 << 20);

    // Act
    const map = await cache.load(config);

    // Assess
    expect(Object.keys(map.configMap).sort()).toEqual(['collector.yaml', 'processors/batch.json']);
    expect(text(map.configMap['collector.yaml']?.body)).toBe('receivers: {}');
    expect(map.configMap['collector.yaml']?.contentType).toBe('text/yaml');
    expect(text(map.configMap['processors/batch.json']?.body)).toBe('{"batch": {}}');
    expect(map.configMap['processors/batch.json']?.contentType).toBe('application/json');
  });

  it('makes no object read when the same hash is loaded again', async () => {
    // Prepare
    const objects = new MemoryObjectStore();
    const config = await upload(objects, 'checkout', { 'a.yaml': { body: 'a' }, 'b.yaml': { body: 'b' } });
    const cache = new ConfigBodyCache(objects, 1 << 20);
    const first = await cache.load(config);
    const reads = objects.gets.length;

    // Act
    const again = await cache.load({ ...config, files: [...config.files] });

    // Assess
    expect(reads).toBe(2);
    expect(objects.gets.length).toBe(reads);
    expect(cache.reads).toBe(2);
    expect(again).toBe(first);
  });

  it('reads the object version the metadata was recorded from, in a versioned bucket', async () => {
    // Prepare
    const objects = new MemoryObjectStore({ versioned: true });
    const config = await upload(objects, 'checkout', { 'a.yaml': { body: 'v1' } });
    await objects.put('configs/checkout/a.yaml', 'v2');
    const cache = new ConfigBodyCache(objects, 1 << 20);

    // Act
    const map = await cache.load(config);

    // Assess
    expect(objects.gets).toEqual([{ key: 'configs/checkout/a.yaml', versionId: config.files[0]!.versionId }]);
    expect(text(map.configMap['a.yaml']?.body)).toBe('v1');
  });

  it.each<[string, (objects: MemoryObjectStore) => void]>([
    ['changed since the metadata was recorded', (objects) => objects.tamper('configs/checkout/b.yaml', 'b, changed')],
    ['gone since the metadata was recorded', (objects) => objects.silentlyDelete('configs/checkout/b.yaml')],
  ])('throws ConfigContentChangedError for an object %s, and caches nothing', async (_name, change) => {
    // Prepare
    const objects = new MemoryObjectStore();
    const config = await upload(objects, 'checkout', { 'a.yaml': { body: 'a' }, 'b.yaml': { body: 'b' } });
    change(objects);
    const cache = new ConfigBodyCache(objects, 1 << 20);

    // Act
    const attempt = cache.load(config);

    // Assess
    await expect(attempt).rejects.toThrow(ConfigContentChangedError);
    await expect(attempt).rejects.toMatchObject({ configName: 'checkout', objectKey: 'configs/checkout/b.yaml' });
    const reads = objects.gets.length;
    await expect(cache.load(config)).rejects.toThrow(ConfigContentChangedError);
    expect(objects.gets.length).toBeGreaterThan(reads);
  });

  describe('eviction', () => {
    /** Three configurations of 40 bytes each, in a cache of 100 bytes: two fit. */
    async function three() {
      const objects = new MemoryObjectStore();
      const [a, b, c] = [
        await upload(objects, 'a', { 'f.yaml': { body: 'a'.repeat(40) } }),
        await upload(objects, 'b', { 'f.yaml': { body: 'b'.repeat(40) } }),
        await upload(objects, 'c', { 'f.yaml': { body: 'c'.repeat(40) } }),
      ] as [ConfigMeta, ConfigMeta, ConfigMeta];
      const cache = new ConfigBodyCache(objects, 100);
      const readsOf = async (config: ConfigMeta) => {
        const before = objects.gets.length;
        await cache.load(config);
        return objects.gets.length - before;
      };
      return { a, b, c, cache, readsOf };
    }

    it('drops the least recently used configuration once past maxBytes', async () => {
      // Prepare
      const { a, b, c, readsOf } = await three();
      await readsOf(a);
      await readsOf(b);
      await readsOf(a); // a is now the most recently used

      // Act
      await readsOf(c);

      // Assess
      expect(await readsOf(a)).toBe(0);
      expect(await readsOf(c)).toBe(0);
      expect(await readsOf(b)).toBe(1);
    });

    it('keeps everything that fits within maxBytes', async () => {
      // Prepare
      const { a, b, readsOf } = await three();

      // Act
      const first = [await readsOf(a), await readsOf(b)];
      const second = [await readsOf(a), await readsOf(b)];

      // Assess
      expect(first).toEqual([1, 1]);
      expect(second).toEqual([0, 0]);
    });

    it('serves a configuration larger than the whole cache', async () => {
      // Prepare
      const objects = new MemoryObjectStore();
      const big = await upload(objects, 'big', { 'f.yaml': { body: 'x'.repeat(500) } });
      const cache = new ConfigBodyCache(objects, 100);

      // Act
      const map = await cache.load(big);

      // Assess
      expect(map.configMap['f.yaml']?.body).toHaveLength(500);
    });

    it('counts a configuration loaded by two concurrent polls once against maxBytes', async () => {
      // Prepare
      const { a, b, cache, readsOf } = await three();
      await Promise.all([cache.load(a), cache.load(a)]);

      // Act: a (40) and b (40) fit in 100 bytes, so a must stay.
      await readsOf(b);

      // Assess
      expect(await readsOf(a)).toBe(0);
    });
  });
});

describe('PollService with configuration bodies', () => {
  async function setup() {
    const objects = new MemoryObjectStore();
    const fleetStore = new MemoryFleetStore();
    const ingest = new BucketIngest({ objects, fleet: fleetStore, now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20 });
    await objects.put('configs/default/collector.yaml', 'receivers: {otlp: {}}\n');
    await ingest.handleEvent(objects.events);
    const state: FleetState = (await fleetStore.load()).state;
    const agents = new MemoryAgentStore();
    const clock = { now: T0 };
    /** A function instance: its own body cache over the shared stores. */
    const instance = () =>
      new PollService({
        agents,
        now: () => clock.now,
        newInstanceUid: () => {
          throw new Error('no uid was requested');
        },
        options: DEFAULT_CORE_OPTIONS,
        fleet: { current: async () => state },
        configBodies: new ConfigBodyCache(objects, 1 << 20),
      });
    return { objects, agents, service: instance(), instance, state, clock };
  }

  it("fills the offered configuration's files into the reply", async () => {
    // Prepare
    const { service, state } = await setup();
    const message = fullReport(AGENT_UID, 1n);

    // Act
    const outcome = await service.poll(message, digestOf(message));

    // Assess
    const remote = outcome.reply.remoteConfig;
    expect(Buffer.from(remote!.configHash).toString('base64')).toBe(state.configs.get('default')!.hash);
    expect(text(remote?.config?.configMap['collector.yaml']?.body)).toBe('receivers: {otlp: {}}\n');
    expect(remote?.config?.configMap['collector.yaml']?.contentType).toBe('text/yaml');
  });

  it('still answers, without remote_config and without recording an offer, when the body changed under the metadata', async () => {
    // Prepare
    const { objects, agents, service } = await setup();
    objects.tamper('configs/default/collector.yaml', 'receivers: {changed: {}}\n');
    const message = fullReport(AGENT_UID, 1n);

    // Act
    const outcome = await service.poll(message, digestOf(message));

    // Assess
    expect(outcome.reply.remoteConfig).toBeUndefined();
    expect(outcome.events).not.toContain('config-offered');
    const record = await agents.get(instanceUidToText(AGENT_UID));
    expect(record?.sequenceNum).toBe(1n);
    expect(record?.configOffer).toBeUndefined();
  });

  it('answers a retried duplicate on another function instance without remote_config when the body changed after the first reply', async () => {
    // Prepare
    const { objects, service, instance, clock } = await setup();
    const message = fullReport(AGENT_UID, 1n);
    const first = await service.poll(message, digestOf(message));
    objects.tamper('configs/default/collector.yaml', 'receivers: {changed: {}}\n');
    clock.now += 1_000;

    // Act
    const retry = await instance().poll(message, digestOf(message));

    // Assess
    expect(first.reply.remoteConfig).toBeDefined();
    expect(retry.events).toContain('duplicate');
    expect(retry.reply.remoteConfig).toBeUndefined();
  });

  it('offers the configuration on a later poll once the body matches its metadata again', async () => {
    // Prepare
    const { objects, service, clock } = await setup();
    const original = 'receivers: {otlp: {}}\n';
    objects.tamper('configs/default/collector.yaml', 'receivers: {changed: {}}\n');
    const message = fullReport(AGENT_UID, 1n);
    await service.poll(message, digestOf(message));

    // Act
    objects.tamper('configs/default/collector.yaml', original);
    clock.now += 30_000;
    const next = heartbeat(AGENT_UID, 2n);
    const outcome = await service.poll(next, digestOf(next));

    // Assess
    expect(text(outcome.reply.remoteConfig?.config?.configMap['collector.yaml']?.body)).toBe(original);
  });
});
