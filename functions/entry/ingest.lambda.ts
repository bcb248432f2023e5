// Bucket notifications for configs/, assignments/, packages/, settings/ and certificates/: keeps the fleet metadata in DynamoDB up to date.
import type { S3Event } from 'aws-lambda';
import { createLambdaClients } from '../adapters/lambda-clients.js';
import { loadConfig } from '../config.js';
import { createPowertools } from '../observability/powertools.js';
import { createBucketIngest } from './bucket-ingest.js';
import { createStores } from './stores.js';

const powertools = createPowertools('opamp-ingest');
const config = loadConfig();
const ingest = createBucketIngest({ config, stores: createStores(config, createLambdaClients(config.storeTimeouts)), telemetry: powertools.telemetry });

export const handler = async (event: S3Event): Promise<void> => {
  try {
    const outcomes = await ingest.handleEvent(event.Records);
    powertools.logger.info('bucket event ingested', { keys: event.Records.map((r) => r.s3.object.key), outcomes });
  } finally {
    powertools.flushMetrics();
  }
};
