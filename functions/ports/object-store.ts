/** Objects in the bucket, as the configuration ingest and delivery read them. */
export interface StoredObject {
  bytes: Uint8Array;
  /** The Content-Type the object was uploaded with, if any. */
  contentType: string | undefined;
  versionId: string | undefined;
  etag: string | undefined;
  lastModified: number;
}

export interface ObjectSummary {
  key: string;
  etag: string | undefined;
  size: number;
}

export interface ObjectStore {
  /** The object (a given version when `versionId` is set), or undefined when there is none. */
  getObject(key: string, versionId?: string): Promise<StoredObject | undefined>;
  putObject(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  deleteObject(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`. */
  listObjects(prefix: string): Promise<ObjectSummary[]>;
}
