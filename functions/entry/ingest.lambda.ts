// Bucket notifications for configs/, assignments/, packages/, settings/ and certificates/: keeps the fleet metadata in DynamoDB up to date.
import type { S3Event } from 'aws-lambda';
import { createLambdaClients } from '../adapters/lambda-clients.js';
import { loadConfig } from '../config.js';
import { SERVICE_NAMES } from '../core/service-names.js';
import { createPowertools } from '../observability/powertools.js';
import { createBucketIngest } from './bucket-ingest.js';
import { createStores } from './stores.js';
import { createRolloutEngine } from './rollouts.js';
import { PresenceReader } from '../service/presence-reader.js';
import { stageChanges } from '../service/rollouts/rollout-engine.js';

const powertools = createPowertools(SERVICE_NAMES.ingest);
const config = loadConfig();
const wiring = { config, stores: createStores(config, createLambdaClients(config.storeTimeouts)), telemetry: powertools.telemetry };
const ingest = createBucketIngest(wiring);
const rollouts = createRolloutEngine(wiring, new PresenceReader({ store: wiring.stores.presence, now: Date.now, ...config.presence }));

export const handler = async (event: S3Event): Promise<void> => {
  try {
    const outcomes = await ingest.handleEvent(event.Records);
    await stageChanges(rollouts);
    powertools.logger.info('bucket event ingested', { keys: event.Records.map((r) => r.s3.object.key), outcomes });
  } finally {
    powertools.flushMetrics();
  }
};
