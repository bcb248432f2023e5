import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAwsClients } from '../adapters/aws-clients.js';
import type { BackendConfig } from '../config.js';
import { createConsoleApp, isConsolePath } from '../console/app.js';
import { stageChanges } from '../service/rollouts/rollout-engine.js';
import { createBackend } from '../entry/backend.js';
import type { Backend } from '../entry/backend.js';
import { lockDataDir } from './data-dir-lock.js';
import type { DataDirLock } from './data-dir-lock.js';
import type { Telemetry } from '../observability/telemetry.js';
import { asS3EventRecords, startDynamoEmulator, startS3Emulator } from './emulators.js';
import type { RunningEmulator } from './emulators.js';
import { idleConnectionMs, listen } from './listen.js';
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
  /** Port of the embedded S3 (0 or unset: any free port). */
  s3Port?: number | undefined;
  /**
   * How often the bucket is re-read, for changes whose events never come: an
   * external S3 sends none here, and the embedded one sends none for
   * multi-object deletes (DeleteObjects).
   */
  reconcileIntervalMs?: number;
  /** How often staged rollouts are evaluated (default 10 s). */
  rolloutIntervalMs?: number;
  telemetry: Telemetry;
  now?: () => number;
  /** How long an idle agent connection stays open; by default longer than any poll interval the server asks for. */
  idleConnectionMs?: number;
  /** Where `env` secret references in settings are read (default: this process's environment). */
  localEnv?: Readonly<Record<string, string | undefined>>;
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
  // Only embedded stores use the data directory.
  const usesDataDir = !options.dynamodbEndpoint || !options.s3Endpoint;
  const lock: DataDirLock | undefined = usesDataDir ? lockDataDir(options.dataDir) : undefined;
  try {
    const dynamo = options.dynamodbEndpoint ? undefined : await startDynamoEmulator({ directory: options.ephemeral ? undefined : join(options.dataDir, 'dynamodb') });
    if (dynamo) emulators.push(dynamo);
    const s3 = options.s3Endpoint ? undefined : await startS3Emulator({ directory: join(options.dataDir, 's3'), port: options.s3Port });
    if (s3) emulators.push(s3);

    const dynamodbEndpoint = options.dynamodbEndpoint ?? dynamo!.endpoint;
    const s3Endpoint = options.s3Endpoint ?? s3!.endpoint;
    const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
    const clients = createAwsClients({ dynamodbEndpoint, s3Endpoint, emulated: !hasCredentials || emulators.length === 2, timeouts: options.config.storeTimeouts });
    await ensureTable(clients.dynamodb, options.config.tableName);
    await ensureBucket(clients.s3, options.config.bucketName);
    await ensureBucket(clients.s3, options.config.stateBucketName);

    const backend = createBackend({
      config: options.config,
      clients,
      telemetry: options.telemetry,
      readLocalFile: (path) =>
        readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        }),
      localEnv: options.localEnv ?? process.env,
      ...(options.now ? { now: options.now } : {}),
    });
    // The bucket is the source of truth: catch up with changes made while stopped,
    // then follow the embedded S3's events, and re-read the bucket now and then for changes that send none.
    // A change the ingest recorded starts its staged rollout at once (see stageChanges).
    const ingest = (work: () => Promise<unknown>) => async () => {
      await work();
      await stageChanges(backend.rollouts);
    };
    let ingestion: Promise<unknown> = ingest(() => backend.ingest.reconcile())();
    await ingestion;
    const follow = (work: () => Promise<unknown>) => {
      ingestion = ingestion.then(work).catch((error: Error) => {
        options.telemetry.logger.error('bucket ingest failed', { error: error.message });
      });
    };
    if (s3) {
      s3.server.on('event', (event: { Records: BucketEventRecord[] }) => follow(ingest(() => backend.ingest.handleEvent(asS3EventRecords(event.Records)))));
    }
    const timer = setInterval(() => follow(ingest(() => backend.ingest.reconcile())), options.reconcileIntervalMs ?? 10_000);
    timer.unref();
    // What the scheduled function does in AWS: start rollouts for changes, and move running ones along.
    const rolloutTimer = setInterval(() => follow(() => backend.rollouts.tick()), options.rolloutIntervalMs ?? 10_000);
    rolloutTimer.unref();

    // A long-running process can write its presence batch on time, not only when a poll arrives.
    const presenceTimer = setInterval(() => void backend.presence.flushIfDue(), 5_000);
    presenceTimer.unref();

    // The console is served only here: it calls the fleet API in-process, and
    // the public agent function in AWS never loads it.
    const consoleApp = createConsoleApp({ fetch: async (request) => backend.app.fetch(request), apiBaseUrl: 'http://127.0.0.1' });
    const server = await listen({
      fetch: (request) => (isConsolePath(new URL(request.url).pathname) ? consoleApp.fetch(request) : backend.app.fetch(request)),
      hostname: options.host,
      port: options.port,
      idleConnectionMs: options.idleConnectionMs ?? idleConnectionMs(options.config),
    });
    const url = `http://${options.host}:${(server.address() as AddressInfo).port}`;
    lock?.describe(url);
    return {
      ...backend,
      url,
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
        clearInterval(timer);
        clearInterval(rolloutTimer);
        clearInterval(presenceTimer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Kept-alive agent connections would hold the server open for their whole idle time.
        server.closeIdleConnections();
        await closed;
        // What this process saw since its last batch is written before the stores go away.
        await backend.presence.flush();
        await ingestion;
        for (const emulator of emulators.reverse()) await emulator.close();
        lock?.release();
      },
    };
  } catch (error) {
    for (const emulator of emulators.reverse()) await emulator.close();
    lock?.release();
    throw error;
  }
}
