import { createHash } from 'node:crypto';
import type { ObjectStore, ObjectSummary, StoredObject } from '../../../functions/ports/object-store.js';
import type { BucketEventRecord } from '../../../functions/service/bucket-ingest.js';

interface Entry {
  bytes: Uint8Array;
  contentType: string | undefined;
  etag: string;
  versionId: string;
  lastModified: number;
}

/**
 * An S3 bucket in memory, for the service tests. Like S3 it quotes ETags (MD5
 * of the content), keeps every version of an object when versioned, and produces an event
 * notification for every put and delete, with URL-encoded keys (spaces as
 * '+') and a growing hex sequencer. The sequencer starts just below a change
 * of length ('FFFE', 'FFFF', '10000', ...) so that ordering across lengths is
 * exercised by every test that uses more than two events.
 */
export class MemoryObjectStore implements ObjectStore {
  /** Whether the bucket is versioned: only then do objects carry version ids. */
  constructor(private readonly options: { versioned?: boolean } = {}) {}

  private readonly objects = new Map<string, Entry>();
  private readonly versions = new Map<string, Entry>();
  private sequencer = 0xfffen;
  private versionCounter = 0;
  /** Every notification, in the order the changes happened. */
  readonly events: BucketEventRecord[] = [];
  /** Every getObject call: the key and version asked for. */
  readonly gets: Array<{ key: string; versionId: string | undefined }> = [];

  async getObject(key: string, versionId?: string): Promise<StoredObject | undefined> {
    this.gets.push({ key, versionId });
    const entry = versionId !== undefined ? this.versions.get(`${key}@${versionId}`) : this.objects.get(key);
    if (!entry) return undefined;
    return {
      bytes: entry.bytes.slice(),
      contentType: entry.contentType,
      versionId: this.options.versioned ? entry.versionId : undefined,
      etag: entry.etag,
      lastModified: entry.lastModified,
    };
  }

  async putObject(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    const entry: Entry = {
      bytes: bytes.slice(),
      contentType,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      versionId: `v${++this.versionCounter}`,
      lastModified: Date.UTC(2026, 0, 1) + this.versionCounter,
    };
    this.objects.set(key, entry);
    this.versions.set(`${key}@${entry.versionId}`, entry);
    this.notify('ObjectCreated:Put', key);
  }

  async deleteObject(key: string): Promise<void> {
    this.objects.delete(key);
    this.notify('ObjectRemoved:Delete', key);
  }

  async listObjects(prefix: string): Promise<ObjectSummary[]> {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, e]) => ({ key, etag: e.etag, size: e.bytes.byteLength }));
  }

  async digestObject(key: string): Promise<{ sha256: string; size: number } | undefined> {
    const entry = this.objects.get(key);
    return entry ? { sha256: createHash('sha256').update(entry.bytes).digest('hex'), size: entry.bytes.byteLength } : undefined;
  }

  /** Uploads text, as `aws s3 cp` would. */
  put(key: string, text: string, contentType?: string): Promise<void> {
    return this.putObject(key, new TextEncoder().encode(text), contentType);
  }

  /**
   * Changes an object's content behind the ingest's back: no event, same
   * version id (as when the metadata read and the body read straddle a change).
   */
  tamper(key: string, text: string): void {
    const entry = this.objects.get(key);
    if (!entry) throw new Error(`no object ${key}`);
    const changed = { ...entry, bytes: new TextEncoder().encode(text) };
    this.objects.set(key, changed);
    this.versions.set(`${key}@${entry.versionId}`, changed);
  }

  /** Removes an object without an event (a notification that was lost). */
  silentlyDelete(key: string): void {
    this.objects.delete(key);
  }

  /** The events since `mark` (an index into `events`). */
  eventsSince(mark: number): BucketEventRecord[] {
    return this.events.slice(mark);
  }

  private notify(eventName: string, key: string): void {
    this.events.push({ eventName, s3: { object: { key: encodeEventKey(key), sequencer: (this.sequencer++).toString(16).toUpperCase() } } });
  }
}

/** How S3 spells a key in event notifications: URL-encoded, spaces as '+'. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
