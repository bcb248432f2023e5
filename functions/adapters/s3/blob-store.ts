import type { BlobStore } from '../../ports/blob-store.js';
import { StoreUnavailableError } from '../../ports/errors.js';
import { isUnreadableResponse } from '../unreadable-response.js';
import { loadS3Module, resolveS3 } from './s3-source.js';
import type { S3ClientSource } from './s3-source.js';

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3ClientSource,
    private readonly bucket: string,
  ) {}

  async put(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    const [client, { PutObjectCommand }] = await Promise.all([resolveS3(this.client), loadS3Module()]);
    await client
      .send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          // A buffer, not a stream: the length is known, and S3 emulators store streamed bodies faithfully only without checksum trailers.
          Body: bytes,
          ...(contentType ? { ContentType: contentType } : {}),
        }),
      )
      .catch((e) => translateS3Error(e, 'PutObject'));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const [client, { GetObjectCommand }] = await Promise.all([resolveS3(this.client), loadS3Module()]);
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      return translateS3Error(error, 'GetObject');
    }
  }
}

export function isNoSuchKey(error: unknown): boolean {
  return (error as { name?: string }).name === 'NoSuchKey';
}

/** Throttling, 5xx and network failures are retryable; anything else is rethrown. */
export function translateS3Error(error: unknown, operation: string): never {
  const meta = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string; $response?: unknown; $fault?: unknown };
  const status = meta.$metadata?.httpStatusCode;
  const retryable =
    meta.$retryable !== undefined ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    meta.name === 'SlowDown' ||
    meta.name === 'TimeoutError' ||
    isUnreadableResponse(meta) ||
    (status === undefined && typeof meta.code === 'string' && /^E[A-Z]+/.test(meta.code));
  if (retryable) throw new StoreUnavailableError('s3', `S3 ${operation} failed: ${meta.name ?? 'Error'}`, { cause: error });
  throw error;
}
