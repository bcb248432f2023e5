import { createHash } from 'node:crypto';
import type { ObjectStore, ObjectSummary, StoredObject } from '../../ports/object-store.js';
import { isNoSuchKey, translateS3Error } from './blob-store.js';
import { loadS3Module, resolveS3 } from './s3-source.js';
import type { S3ClientSource } from './s3-source.js';

/** The bucket's objects, as configuration ingest, delivery and the fleet API use them. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly source: S3ClientSource,
    private readonly bucket: string,
  ) {}

  async getObject(key: string, versionId?: string): Promise<StoredObject | undefined> {
    const [client, { GetObjectCommand }] = await this.sdk();
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
      return {
        bytes: out.Body ? await out.Body.transformToByteArray() : new Uint8Array(),
        contentType: out.ContentType,
        versionId: out.VersionId,
        etag: out.ETag,
        lastModified: out.LastModified?.getTime() ?? 0,
      };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      return translateS3Error(error, 'GetObject');
    }
  }

  async putObject(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    const [client, { PutObjectCommand }] = await this.sdk();
    await client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ...(contentType ? { ContentType: contentType } : {}) })).catch((e) => translateS3Error(e, 'PutObject'));
  }

  async deleteObject(key: string): Promise<void> {
    const [client, { DeleteObjectCommand }] = await this.sdk();
    await client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch((e) => translateS3Error(e, 'DeleteObject'));
  }

  async digestObject(key: string): Promise<{ sha256: string; size: number } | undefined> {
    const [client, { GetObjectCommand }] = await this.sdk();
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
      return { sha256: hash.digest('hex'), size };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      return translateS3Error(error, 'GetObject');
    }
  }

  async listObjects(prefix: string): Promise<ObjectSummary[]> {
    const [client, { ListObjectsV2Command }] = await this.sdk();
    const objects: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const out = await client
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
        .catch((e) => translateS3Error(e, 'ListObjectsV2'));
      for (const o of out.Contents ?? []) {
        if (o.Key) objects.push({ key: o.Key, etag: o.ETag, size: o.Size ?? 0 });
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  private sdk() {
    return Promise.all([resolveS3(this.source), loadS3Module()]);
  }
}
