import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/** An S3 client, or a function that makes one on first use. */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

/** The clients the stores are built from. */
export interface StoreClients {
  dynamodb: DynamoDBClient;
  s3: S3ClientSource;
}

export function resolveS3(source: S3ClientSource): Promise<S3Client> {
  return typeof source === 'function' ? source() : Promise.resolve(source);
}

let s3Module: Promise<typeof import('@aws-sdk/client-s3')> | undefined;

/** The S3 SDK module, loaded on first use (so that loading an S3 adapter does not load it). */
export function loadS3Module(): Promise<typeof import('@aws-sdk/client-s3')> {
  return (s3Module ??= import('@aws-sdk/client-s3'));
}
