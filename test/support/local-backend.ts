import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../functions/config.js';
import type { BackendConfig } from '../../functions/config.js';
import { startLocalBackend } from '../../functions/local/local-backend.js';
import type { LocalBackend } from '../../functions/local/local-backend.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import type { Telemetry } from '../../functions/observability/telemetry.js';

export interface TestBackend extends LocalBackend {
  opampUrl: string;
  /** The backend's clock: it stands still unless a test moves it. */
  clock: ManualClock;
}

export class ManualClock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * The local backend on a free port with in-memory DynamoDB and a scratch S3
 * folder, as `npm start` runs it, on a manual clock. `env` overrides settings
 * the way environment variables do.
 */
export async function startTestBackend(env: Record<string, string> = {}, clock = new ManualClock(), telemetry: Telemetry = NO_TELEMETRY): Promise<TestBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opamp-e2e-'));
  const config: BackendConfig = loadConfig({ ...env });
  const backend = await startLocalBackend({
    config,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    ephemeral: true,
    telemetry,
    now: clock.now,
    // `env` secret references read the test's settings, not the machine's environment.
    localEnv: env,
  });
  return {
    ...backend,
    opampUrl: `${backend.url}/v1/opamp`,
    clock,
    async close() {
      await backend.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
