import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DownloadUrlSigner, UploadUrlSigner } from '../../ports/object-store.js';

/**
 * Presigned GET URLs, signed at poll time with the function's own credentials
 * and never stored: a URL signed with temporary credentials stops working when
 * they expire, whatever its own expiry says, so keep expiries short.
 */
export class S3UrlSigner implements DownloadUrlSigner, UploadUrlSigner {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  signGet(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  signPut(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }
}
