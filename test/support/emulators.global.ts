import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDynamoEmulator, startS3Emulator } from '../../functions/local/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    s3Endpoint: string;
  }
}

/** Starts dynalite and s3rver once for the integration project, on free ports. */
export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const scratch = mkdtempSync(join(tmpdir(), 'opamp-it-'));
  const dynamo = await startDynamoEmulator({});
  const s3 = await startS3Emulator({ directory: join(scratch, 's3') });
  project.provide('dynamodbEndpoint', dynamo.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  return async () => {
    await s3.close();
    await dynamo.close();
    rmSync(scratch, { recursive: true, force: true });
  };
}
