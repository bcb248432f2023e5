// `npm start`: the whole backend on this machine, with embedded DynamoDB and S3.
// The SDK's notice that future releases need Node 22 is for maintainers (the
// lock file pins the SDK); it would only puzzle someone starting the backend.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, loadLocalSettings } from '../config.js';
import { startLocalBackend } from '../local/local-backend.js';
import { createPowertools } from '../observability/powertools.js';

try {
  const config = loadConfig();
  const local = loadLocalSettings();
  const dataDir = resolve(local.dataDir);
  const backend = await startLocalBackend({
    config,
    ...local,
    dataDir,
    telemetry: { ...createPowertools('opamp-local').telemetry, count() {}, annotate: undefined },
  });
  const stores = backend.embedded.dynamodb || backend.embedded.s3 ? `embedded stores, data in ${dataDir}` : 'external stores';
  const auth = config.agentAuth === 'token' ? 'agents need a token (opampctl token create <name>)' : 'no agent authentication (OPAMP_AGENT_AUTH=token to require tokens)';
  console.log(`OpAMP backend running (${stores}; ${auth})
  agents (OpAMP over HTTP): ${backend.url}/v1/opamp
  fleet API:                ${backend.url}/api/v1/agents
  health:                   ${backend.url}/healthz
  DynamoDB: ${backend.dynamodbEndpoint}${backend.embedded.dynamodb ? ' (embedded)' : ''}
  S3:       ${backend.s3Endpoint}${backend.embedded.s3 ? ' (embedded)' : ''}
Press Ctrl-C to stop.`);

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
