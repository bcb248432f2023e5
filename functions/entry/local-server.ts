// `npm start`: the whole backend on this machine, with embedded DynamoDB and S3.
// The SDK's notice that future releases need Node 22 is for maintainers (the
// lock file pins the SDK); it would only puzzle someone starting the backend.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, loadLocalSettings } from '../config.js';
import { startBanner } from '../local/banner.js';
import { startLocalBackend } from '../local/local-backend.js';
import { SERVICE_NAMES } from '../core/service-names.js';
import { createPowertools } from '../observability/powertools.js';

try {
  const config = loadConfig();
  const local = loadLocalSettings();
  const dataDir = resolve(local.dataDir);
  const backend = await startLocalBackend({
    config,
    ...local,
    dataDir,
    telemetry: { ...createPowertools(SERVICE_NAMES.local).telemetry, count() {}, annotate: undefined },
  });
  console.log(
    startBanner({
      ...backend,
      dataDir,
      agentAuth: config.agentAuth,
      bucket: config.bucketName,
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    }),
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await backend.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `could not start: ${(error as Error).message}`;
  console.error(message);
  process.exit(1);
}
