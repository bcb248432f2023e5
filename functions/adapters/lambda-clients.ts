import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientSettings } from './client-settings.js';
import type { StoreTimeouts } from './client-settings.js';
import { enforceDeadlines } from './deadlines.js';
import type { StoreClients } from './s3/s3-source.js';
import { loadS3Module } from './s3/s3-source.js';

/**
 * SDK clients for a Lambda function: DynamoDB at once (every poll uses it),
 * S3 on first use. Most polls never touch S3, and loading its client would
 * add to every cold start.
 */
export function createLambdaClients(timeouts: StoreTimeouts): StoreClients {
  const settings = clientSettings({ timeouts });
  let s3: Promise<import('@aws-sdk/client-s3').S3Client> | undefined;
  return {
    dynamodb: enforceDeadlines(new DynamoDBClient(settings.dynamodb)),
    s3: () => (s3 ??= loadS3Module().then(({ S3Client }) => enforceDeadlines(new S3Client(settings.s3)))),
  };
}
