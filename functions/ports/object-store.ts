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
  /** SHA-256 (hex) and size of an object, read as a stream (package files can be large). */
  digestObject(key: string): Promise<{ sha256: string; size: number } | undefined>;
}

/** Signs short-lived download URLs for package files. */
export interface DownloadUrlSigner {
  signGet(key: string, expiresInSeconds: number): Promise<string>;
}

/** Signs short-lived upload URLs (for files too large to pass through the fleet API). */
export interface UploadUrlSigner {
  signPut(key: string, expiresInSeconds: number): Promise<string>;
}
