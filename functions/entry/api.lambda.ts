// The fleet API, behind an IAM-authenticated Function URL: /api/v1/* and GET /healthz.
import { createLambdaClients } from '../adapters/lambda-clients.js';
import { loadConfig } from '../config.js';
import { createPowertools } from '../observability/powertools.js';
import { createFleetApi } from './fleet-api.js';
import { lambdaHandler } from './lambda-handler.js';
import { createStores } from './stores.js';

const powertools = createPowertools('opamp-api');
const config = loadConfig();
const { app } = createFleetApi({ config, stores: createStores(config, createLambdaClients(config.storeTimeouts)), telemetry: powertools.telemetry });

export const handler = lambdaHandler(app, powertools);
