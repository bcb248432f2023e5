import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../functions/config.js';
import type { BackendConfig } from '../../functions/config.js';
import { startLocalBackend } from '../../functions/local/local-backend.js';
import type { LocalBackend, LocalBackendOptions } from '../../functions/local/local-backend.js';
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
export async function startTestBackend(
  env: Record<string, string> = {},
  clock = new ManualClock(),
  options: Pick<LocalBackendOptions, 'idleConnectionMs'> & { telemetry?: Telemetry } = {},
): Promise<TestBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opamp-e2e-'));
  const config: BackendConfig = loadConfig({ ...env });
  const backend = await startLocalBackend({
    config,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    ephemeral: true,
    telemetry: options.telemetry ?? NO_TELEMETRY,
    now: clock.now,
    // Tests evaluate staged rollouts themselves (backend.rollouts.tick()), when they choose.
    rolloutIntervalMs: 3_600_000,
    ...(options.idleConnectionMs !== undefined ? { idleConnectionMs: options.idleConnectionMs } : {}),
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

export interface BackendExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface BackendProcess {
  pid: number;
  url: string;
  opampUrl: string;
  /** Settles when the process has exited, with everything it printed. */
  exited: Promise<BackendExit>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<BackendExit>;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * `npm start` as a separate process (node running the entry file through tsx
 * directly, so that a signal reaches the backend itself). `env` is added to a
 * clean environment: no endpoint overrides from the caller leak in. Resolves
 * with the running backend once it prints its URLs, or with how it exited
 * when it stopped before that.
 */
export function launchBackend(env: Record<string, string>): Promise<BackendProcess | BackendExit> {
  const { AWS_ENDPOINT_URL_DYNAMODB: _d, AWS_ENDPOINT_URL_S3: _s, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/entry/local-server.ts'], {
    cwd: REPO_ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<BackendExit>((done) => child.once('close', (code, signal) => done({ code, signal, stdout, stderr })));
  return new Promise((settle) => {
    const onData = () => {
      const url = /agents \(OpAMP over HTTP\): (\S+)\/v1\/opamp/.exec(stdout)?.[1];
      if (!url) return;
      child.stdout.off('data', onData);
      settle({
        pid: child.pid!,
        url,
        opampUrl: `${url}/v1/opamp`,
        exited,
        stop(signal = 'SIGTERM') {
          child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then(settle);
  });
}

export function isRunning(started: BackendProcess | BackendExit): started is BackendProcess {
  return 'url' in started;
}
