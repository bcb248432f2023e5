import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { clientSettings } from './client-settings.js';
import { enforceDeadlines } from './deadlines.js';
import type { AwsClientOptions } from './client-settings.js';

export type { AwsClientOptions } from './client-settings.js';

/** SDK clients, made at once: for the local backend, tests and tools. (Lambda entries use lambda-clients.ts.) */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const settings = clientSettings(options);
  return { dynamodb: enforceDeadlines(new DynamoDBClient(settings.dynamodb)), s3: enforceDeadlines(new S3Client(settings.s3)) };
}
