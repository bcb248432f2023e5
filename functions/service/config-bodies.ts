import { create } from '@bufbuild/protobuf';
import { sha256 } from '../core/canonical-hash.js';
import type { ConfigMeta } from '../core/fleet.js';
import { AgentConfigMapSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentConfigMap } from '../gen/opamp/v1/opamp_pb.js';
import type { ObjectStore } from '../ports/object-store.js';

/** The object changed (or vanished) after the metadata was recorded; the new metadata is on its way. */
export class ConfigContentChangedError extends Error {
  override readonly name = 'ConfigContentChangedError';

  constructor(
    readonly configName: string,
    readonly objectKey: string,
  ) {
    super(`${objectKey} no longer matches the recorded content of configuration ${configName}`);
  }
}

/**
 * Configuration bodies by config hash, cached in the function instance: a
 * rollout to any number of agents reads each file from S3 once per instance.
 * The cache holds at most `maxBytes`; the least recently used entries go first.
 */
export class ConfigBodyCache {
  private readonly entries = new Map<string, { map: AgentConfigMap; bytes: number }>();
  /** Loads under way, so that concurrent polls needing one configuration read it once. */
  private readonly loading = new Map<string, Promise<AgentConfigMap>>();
  private total = 0;
  /** S3 reads made so far (for the benchmark). */
  reads = 0;

  /**
   * `objects` is the operator's bucket; `history` the state bucket, where
   * files of recorded versions (`source: 'history'`) are kept.
   */
  constructor(
    private readonly objects: ObjectStore,
    private readonly maxBytes: number,
    private readonly history?: ObjectStore,
  ) {}

  async load(config: ConfigMeta): Promise<AgentConfigMap> {
    const hit = this.entries.get(config.hash);
    if (hit) {
      this.entries.delete(config.hash);
      this.entries.set(config.hash, hit);
      return hit.map;
    }
    let pending = this.loading.get(config.hash);
    if (!pending) {
      pending = this.fetch(config).finally(() => this.loading.delete(config.hash));
      this.loading.set(config.hash, pending);
    }
    return pending;
  }

  private async fetch(config: ConfigMeta): Promise<AgentConfigMap> {
    const files = await Promise.all(
      config.files.map(async (file) => {
        this.reads++;
        const store = file.source === 'history' ? this.history : this.objects;
        if (!store) throw new Error(`configuration ${config.name}: ${file.objectKey} is a history copy, and no state bucket is wired`);
        const object = await store.getObject(file.objectKey, file.versionId);
        if (!object || sha256(object.bytes).toString('hex') !== file.sha256) {
          throw new ConfigContentChangedError(config.name, file.objectKey);
        }
        return [file.fileName, { body: object.bytes, contentType: file.contentType }] as const;
      }),
    );
    const map = create(AgentConfigMapSchema, { configMap: Object.fromEntries(files) });
    const bytes = files.reduce((sum, [, f]) => sum + f.body.byteLength, 0);
    this.entries.set(config.hash, { map, bytes });
    this.total += bytes;
    for (const [hash, entry] of this.entries) {
      if (this.total <= this.maxBytes || hash === config.hash) break;
      this.entries.delete(hash);
      this.total -= entry.bytes;
    }
    return map;
  }
}
