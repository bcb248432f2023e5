import { RejectedRequestError } from '../../core/errors.js';
import type { RemoteConfigPolicy } from '../../core/remote-config.js';
import type { AgentStore } from '../../ports/agent-store.js';
import type { ConfigHistoryStore } from '../../ports/config-history-store.js';
import type { FleetStore } from '../../ports/fleet-store.js';
import type { ObjectStore, UploadUrlSigner } from '../../ports/object-store.js';

/** What the fleet API's write side works with; each resource module takes it. */
export interface AdminDeps {
  objects: ObjectStore;
  fleet: FleetStore;
  agents: AgentStore;
  now: () => number;
  remoteConfig: RemoteConfigPolicy;
  uploads?: UploadUrlSigner;
  /** The ingest refuses larger configuration files, so an upload of one is refused at once. */
  maxConfigFileBytes?: number;
  /** Recorded configuration versions, and the state bucket holding their files' copies. */
  history?: { store: ConfigHistoryStore; state: ObjectStore };
}

/** The request names something that cannot exist (a file name the bucket layout cannot hold, ...). */
export class InvalidInputError extends RejectedRequestError {
  override readonly name = 'InvalidInputError';

  constructor(message: string) {
    super('invalid', 'invalid-request', message);
  }
}

export class NotFoundError extends RejectedRequestError {
  override readonly name = 'NotFoundError';

  constructor(message: string) {
    super('not-found', 'not-found', message);
  }
}

/** Deletes every object under `prefix`; 404 when there is none, as for any delete of something missing. */
export async function deleteAllUnder(deps: AdminDeps, prefix: string, missing: string): Promise<void> {
  const existing = await deps.objects.listObjects(prefix);
  if (existing.length === 0) throw new NotFoundError(missing);
  for (const object of existing) await deps.objects.deleteObject(object.key);
}

/** Deletes one object; 404 when it is not there. */
export async function deleteOne(deps: AdminDeps, key: string, missing: string): Promise<void> {
  if ((await deps.objects.listObjects(key)).every((o) => o.key !== key)) throw new NotFoundError(missing);
  await deps.objects.deleteObject(key);
}

/** Writes a JSON document the way people write them into the bucket: indented, with a final newline. */
export async function putJson(deps: AdminDeps, key: string, document: unknown): Promise<void> {
  await deps.objects.putObject(key, new TextEncoder().encode(`${JSON.stringify(document, null, 2)}\n`), 'application/json');
}

export function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

export function isoOrNull(ms: number | undefined): string | null {
  return ms !== undefined ? new Date(ms).toISOString() : null;
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
