// Runs on a schedule: starts rollouts for changed assignments and moves running ones along their steps.
import { createLambdaClients } from '../adapters/lambda-clients.js';
import { loadConfig } from '../config.js';
import { SERVICE_NAMES } from '../core/service-names.js';
import { createPowertools } from '../observability/powertools.js';
import { PresenceReader } from '../service/presence-reader.js';
import { createRolloutEngine } from './rollouts.js';
import { createStores } from './stores.js';

const powertools = createPowertools(SERVICE_NAMES.rollouts);
const config = loadConfig();
const stores = createStores(config, createLambdaClients(config.storeTimeouts));
const engine = createRolloutEngine({ config, stores, telemetry: powertools.telemetry }, new PresenceReader({ store: stores.presence, now: Date.now, ...config.presence }));

export const handler = async (): Promise<void> => {
  try {
    const { started, evaluated } = await engine.tick();
    if (started.length > 0 || evaluated.length > 0) {
      powertools.logger.info('rollouts evaluated', { started: started.map((r) => r.id), evaluated: evaluated.map((r) => ({ id: r.id, state: r.state, step: r.step + 1, counts: r.counts })) });
    }
  } finally {
    powertools.flushMetrics();
  }
};
