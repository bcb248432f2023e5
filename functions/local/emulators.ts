import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { guardS3rverKeys } from './s3-key-guard.js';

/**
 * DynamoDB (dynalite) and S3 (s3rver) emulators in this process, for the local
 * backend and the tests. DynamoDB data persists in `directory` when one is
 * given and lives in memory otherwise; S3 objects are always files.
 */
export interface RunningEmulator {
  endpoint: string;
  close(): Promise<void>;
}

export interface RunningS3Emulator extends RunningEmulator {
  server: S3rver;
}

export async function startDynamoEmulator(options: { directory?: string | undefined; host?: string }): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  if (options.directory) mkdirSync(options.directory, { recursive: true });
  const server = dynalite({
    ...(options.directory ? { path: options.directory } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

export async function startS3Emulator(options: { directory: string; host?: string }): Promise<RunningS3Emulator> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({ address: host, port: 0, silent: true, directory: options.directory });
  guardS3rverKeys(server);
  keepDeleteEvents(server);
  const address = await server.run();
  return {
    endpoint: `http://${host}:${address.port}`,
    server,
    close: () => server.close().catch(() => {}),
  };
}

/**
 * After deleting an object, s3rver removes the folders it emptied. When two
 * objects of one folder are deleted at once (a file and its signature, as
 * `aws s3 sync --delete` does), the slower delete finds the folder gone and
 * fails the request after the object was removed: the client's retry then
 * finds nothing to delete, and no event is ever emitted, so the ingest would
 * never hear of the removal. A folder already gone is what the cleanup wanted.
 */
function keepDeleteEvents(server: S3rver): void {
  const { store } = server;
  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = async (bucket, key) => {
    try {
      await deleteObject(bucket, key);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw error;
    }
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * s3rver puts object keys into its event records as they are; S3 URL-encodes
 * them (a space becomes '+'). Records are re-encoded here, so that the ingest
 * reads every key the one way S3 delivers it.
 */
export function asS3EventRecords<R extends { s3: { object: { key: string } } }>(records: readonly R[]): R[] {
  return records.map((r) => ({
    ...r,
    s3: { ...r.s3, object: { ...r.s3.object, key: encodeURIComponent(r.s3.object.key).replace(/%2F/gi, '/').replace(/%20/g, '+') } },
  }));
}
