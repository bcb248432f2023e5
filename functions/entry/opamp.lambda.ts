// The public agent endpoint: POST /v1/opamp and GET /healthz, nothing else.
import { createAwsClients } from '../adapters/aws-clients.js';
import { loadConfig } from '../config.js';
import { createPowertools } from '../observability/powertools.js';
import { createBackend } from './backend.js';
import { lambdaHandler } from './lambda-handler.js';

const powertools = createPowertools('opamp');
const backend = createBackend({
  // Agents must present a token unless OPAMP_AGENT_AUTH=none says otherwise.
  config: loadConfig(process.env, { agentAuth: 'token' }),
  clients: createAwsClients(),
  telemetry: powertools.telemetry,
  routes: { opamp: true, api: false },
});

export const handler = lambdaHandler(backend.app, powertools);
