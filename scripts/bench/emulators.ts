// Runs dynalite (in memory) and s3rver (in a temp dir) in their own process, so
// that CPU time measured in the benchmark process belongs to the app alone.
// Prints {"dynamodbEndpoint": ..., "s3Endpoint": ...} as one line on stdout and
// runs until stdin closes or it receives SIGTERM/SIGINT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoEmulator, startS3Emulator } from '../../functions/local/emulators.js';

const scratch = mkdtempSync(join(tmpdir(), 'opamp-bench-s3-'));
const dynamo = await startDynamoEmulator({});
const s3 = await startS3Emulator({ directory: join(scratch, 's3') });

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await Promise.allSettled([s3.close(), dynamo.close()]);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.on('close', () => void shutdown());
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ dynamodbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint })}\n`);
