import type { DownloadUrlSigner, UploadUrlSigner } from '../../ports/object-store.js';
import { loadS3Module, resolveS3 } from './s3-source.js';
import type { S3ClientSource } from './s3-source.js';

/**
 * Presigned GET URLs, signed at poll time with the function's own credentials
 * and never stored: a URL signed with temporary credentials stops working when
 * they expire, whatever its own expiry says, so keep expiries short.
 */
export class S3UrlSigner implements DownloadUrlSigner, UploadUrlSigner {
  constructor(
    private readonly client: S3ClientSource,
    private readonly bucket: string,
  ) {}

  async signGet(key: string, expiresInSeconds: number): Promise<string> {
    const [client, { GetObjectCommand }, { getSignedUrl }] = await this.sdk();
    return getSignedUrl(client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  async signPut(key: string, expiresInSeconds: number): Promise<string> {
    const [client, { PutObjectCommand }, { getSignedUrl }] = await this.sdk();
    return getSignedUrl(client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** The presigner loads with the S3 client, on first use (most polls sign nothing). */
  private sdk() {
    return Promise.all([resolveS3(this.client), loadS3Module(), (presigner ??= import('@aws-sdk/s3-request-presigner'))]);
  }
}

let presigner: Promise<typeof import('@aws-sdk/s3-request-presigner')> | undefined;
