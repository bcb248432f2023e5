import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { createAwsClients } from '../adapters/aws-clients.js';
import type { BackendConfig } from '../config.js';
import { createBackend } from '../entry/backend.js';
import type { Backend } from '../entry/backend.js';
import type { Telemetry } from '../observability/telemetry.js';
import { asS3EventRecords, startDynamoEmulator, startS3Emulator } from './emulators.js';
import type { RunningEmulator } from './emulators.js';
import { ensureBucket, ensureTable } from './provision.js';
import type { BucketEventRecord } from '../service/bucket-ingest.js';

export interface LocalBackendOptions {
  config: BackendConfig;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Where embedded stores keep their data. */
  dataDir: string;
  /** Keep DynamoDB data in memory instead of under dataDir (tests). */
  ephemeral?: boolean;
  /** External endpoints; each store given one is not embedded. */
  dynamodbEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
  /**
   * With an external S3 there are no bucket events here: the bucket is
   * re-read this often instead.
   */
  reconcileIntervalMs?: number;
  telemetry: Telemetry;
  now?: () => number;
}

export interface LocalBackend extends Backend {
  url: string;
  dynamodbEndpoint: string;
  s3Endpoint: string;
  embedded: { dynamodb: boolean; s3: boolean };
  /** Resolves once every bucket change seen so far has been ingested. */
  ingested(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole backend in one process: the same app the Lambda functions run,
 * serving agents and the fleet API together, over embedded or external stores.
 */
export async function startLocalBackend(options: LocalBackendOptions): Promise<LocalBackend> {
  const emulators: RunningEmulator[] = [];
  try {
    const dynamo = options.dynamodbEndpoint
      ? undefined
      : await startDynamoEmulator({ directory: options.ephemeral ? undefined : join(options.dataDir, 'dynamodb') });
    if (dynamo) emulators.push(dynamo);
    const s3 = options.s3Endpoint ? undefined : await startS3Emulator({ directory: join(options.dataDir, 's3') });
    if (s3) emulators.push(s3);

    const dynamodbEndpoint = options.dynamodbEndpoint ?? dynamo!.endpoint;
    const s3Endpoint = options.s3Endpoint ?? s3!.endpoint;
    const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
    const clients = createAwsClients({ dynamodbEndpoint, s3Endpoint, emulated: !hasCredentials || emulators.length === 2 });
    await ensureTable(clients.dynamodb, options.config.tableName);
    await ensureBucket(clients.s3, options.config.bucketName);

    const backend = createBackend({
      config: options.config,
      clients,
      telemetry: options.telemetry,
      readLocalFile: (path) => readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      }),
      ...(options.now ? { now: options.now } : {}),
    });
    // The bucket is the source of truth: catch up with changes made while stopped,
    // then follow the embedded S3's events (or re-read an external bucket now and then).
    let ingestion: Promise<unknown> = backend.ingest.reconcile();
    await ingestion;
    const follow = (work: () => Promise<unknown>) => {
      ingestion = ingestion.then(work).catch((error: Error) => {
        options.telemetry.logger.error('bucket ingest failed', { error: error.message });
      });
    };
    if (s3) {
      s3.server.on('event', (event: { Records: BucketEventRecord[] }) => follow(() => backend.ingest.handleEvent(asS3EventRecords(event.Records))));
    }
    const timer = s3 ? undefined : setInterval(() => follow(() => backend.ingest.reconcile()), options.reconcileIntervalMs ?? 10_000);
    timer?.unref();

    // A long-running process can write its presence batch on time, not only when a poll arrives.
    const presenceTimer = setInterval(() => void backend.presence.flushIfDue(), 5_000);
    presenceTimer.unref();

    const server = await listen(backend, options.host, options.port);
    const port = (server.address() as AddressInfo).port;
    return {
      ...backend,
      url: `http://${options.host}:${port}`,
      dynamodbEndpoint,
      s3Endpoint,
      embedded: { dynamodb: Boolean(dynamo), s3: Boolean(s3) },
      async ingested() {
        let seen: Promise<unknown>;
        do {
          seen = ingestion;
          await seen;
        } while (seen !== ingestion);
      },
      async close() {
        if (timer) clearInterval(timer);
        clearInterval(presenceTimer);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // What this process saw since its last batch is written before the stores go away.
        await backend.presence.flush();
        await ingestion;
        for (const emulator of emulators.reverse()) await emulator.close();
      },
    };
  } catch (error) {
    for (const emulator of emulators.reverse()) await emulator.close();
    throw error;
  }
}

function listen(backend: Backend, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: backend.app.fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}
