// The public agent endpoint: POST /v1/opamp and GET /healthz, nothing else.
import { createLambdaClients } from '../adapters/lambda-clients.js';
import { loadConfig } from '../config.js';
import { createPowertools } from '../observability/powertools.js';
import { createAgentEndpoint } from './agent-endpoint.js';
import { lambdaHandler } from './lambda-handler.js';
import { createStores } from './stores.js';

const powertools = createPowertools('opamp');
// Agents must present a token unless OPAMP_AGENT_AUTH=none says otherwise.
const config = loadConfig(process.env, { agentAuth: 'token' });
const { app } = createAgentEndpoint({ config, stores: createStores(config, createLambdaClients(config.storeTimeouts)), telemetry: powertools.telemetry });

export const handler = lambdaHandler(app, powertools);
