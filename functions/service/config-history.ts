import { sha256 } from '../core/canonical-hash.js';
import { configMetaOfVersion, configVersionOf, historyBlobKey } from '../core/config-history.js';
import type { ConfigVersion } from '../core/config-history.js';
import type { ConfigMeta } from '../core/fleet.js';
import type { ConfigHistoryStore } from '../ports/config-history-store.js';
import type { FleetStore } from '../ports/fleet-store.js';
import type { ObjectStore } from '../ports/object-store.js';

export interface HistoryRecorderDeps {
  /** The operator's bucket, where the configuration's files are. */
  objects: ObjectStore;
  /** The server's state bucket, where history copies are kept (config-history/). */
  state: ObjectStore;
  fleet: FleetStore;
  history: ConfigHistoryStore;
  now: () => number;
}

/**
 * `recorded`: a new version; `unchanged`: the newest version already has this
 * hash; `not-servable`: the configuration has no files or a file with an
 * error, so agents are offered nothing of it; `moved`: a file changed in the
 * bucket since it was recorded (the event for that change records it).
 */
export type HistoryOutcome = 'recorded' | 'unchanged' | 'not-servable' | 'moved';

/**
 * Records the configuration's current version, as the fleet state sees it,
 * when it differs from the newest recorded one. Each file's bytes are copied
 * to the state bucket by content hash first (once: copies are shared by every
 * version and configuration), so a recorded version can always be served.
 */
export async function recordConfigVersion(deps: HistoryRecorderDeps, configName: string, principal: string): Promise<HistoryOutcome> {
  const files = await deps.fleet.configFiles(configName);
  if (files.length === 0 || files.some((f) => f.error !== undefined)) return 'not-servable';
  const version = configVersionOf(configName, files, deps.now(), principal);
  const newest = (await deps.history.list(configName, { limit: 1 })).versions[0];
  if (newest?.hash === version.hash) return 'unchanged';
  for (const file of files) {
    const key = historyBlobKey(file.sha256);
    if ((await deps.state.listObjects(key)).some((o) => o.key === key)) continue;
    const object = await deps.objects.getObject(file.objectKey, file.versionId);
    if (!object || sha256(object.bytes).toString('hex') !== file.sha256) return 'moved';
    await deps.state.putObject(key, object.bytes, file.contentType);
  }
  return (await deps.history.record(version)) ? 'recorded' : 'unchanged';
}

/**
 * A servable ConfigMeta for any recorded version of a configuration, read
 * from its history copies (ConfigBodyCache reads them from the state bucket);
 * undefined when the hash (base64) was never recorded for that name.
 */
export async function historicConfig(store: ConfigHistoryStore, name: string, hash: string): Promise<ConfigMeta | undefined> {
  const version = await store.get(name, hash);
  return version ? configMetaOfVersion(version) : undefined;
}

/** The version's files as they were: bytes from the history copies, each checked against its hash. */
export async function versionFiles(state: ObjectStore, version: ConfigVersion): Promise<Array<{ fileName: string; contentType: string; sha256: string; bytes: Uint8Array }>> {
  return Promise.all(
    version.files.map(async (file) => {
      const object = await state.getObject(historyBlobKey(file.sha256));
      if (!object || sha256(object.bytes).toString('hex') !== file.sha256) {
        throw new Error(`the history copy of ${version.configName}/${file.fileName} (${file.sha256}) is missing or damaged`);
      }
      return { fileName: file.fileName, contentType: file.contentType, sha256: file.sha256, bytes: object.bytes };
    }),
  );
}
