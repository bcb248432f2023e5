// The fleet API, behind an IAM-authenticated Function URL: /api/v1/* and GET /healthz.
import { createAwsClients } from '../adapters/aws-clients.js';
import { loadConfig } from '../config.js';
import { createPowertools } from '../observability/powertools.js';
import { createBackend } from './backend.js';
import { lambdaHandler } from './lambda-handler.js';

const powertools = createPowertools('opamp-api');
const backend = createBackend({
  config: loadConfig(),
  clients: createAwsClients(),
  telemetry: powertools.telemetry,
  routes: { opamp: false, api: true },
});

export const handler = lambdaHandler(backend.app, powertools);
