import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning, launchBackend } from '../support/local-backend.js';
import type { BackendExit, BackendProcess } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

/** A refusal to start: a non-zero exit and one line on stderr, no stack trace. */
function expectOneLineRefusal(exit: BackendProcess | BackendExit): string {
  expect(isRunning(exit), 'the second backend started').toBe(false);
  const { code, stderr } = exit as BackendExit;
  expect(code).not.toBe(0);
  expect(code).not.toBeNull();
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

describe('starting a second local backend', () => {
  const dirs: string[] = [];
  let first: BackendProcess;
  const scratchDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'opamp-start-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    const started = await launchBackend({ OPAMP_DATA_DIR: scratchDir(), OPAMP_PORT: '0' });
    if (!isRunning(started)) throw new Error(`the first backend did not start: ${started.stderr}`);
    first = started;
  });
  afterAll(async () => {
    await first?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('on the same data directory exits with a message naming the running one, which keeps serving', async () => {
    const second = await launchBackend({ OPAMP_DATA_DIR: dirs[0]!, OPAMP_PORT: '0' });

    const message = expectOneLineRefusal(second);
    expect(message).toContain(`another backend (process ${first.pid}, ${first.url}) is using the data directory ${dirs[0]}`);
    expect(message).toContain('OPAMP_DATA_DIR');
    expect(message).toContain('OPAMP_PORT');
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await new ScriptedAgent(first.opampUrl).sendFullReport()).status).toBe(200);
  });

  it('on a port in use exits with a message naming the port, and leaves its data directory unlocked', async () => {
    const port = new URL(first.url).port;
    const dataDir = scratchDir();

    const second = await launchBackend({ OPAMP_DATA_DIR: dataDir, OPAMP_PORT: port });

    const message = expectOneLineRefusal(second);
    expect(message).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(message).toContain('OPAMP_PORT');
    expect(existsSync(join(dataDir, 'backend.lock'))).toBe(false);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });
});
