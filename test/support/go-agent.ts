import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The opamp-go test agent (the Collector's OpAMP client library in a small
 * program), kept beside the repository rather than in it. Tests that need it
 * skip where it is absent. OPAMP_GO_AGENT names it explicitly.
 */
const REPO_ROOT = resolve(import.meta.dirname, '../..');

export const GO_AGENT: string | undefined = [
  process.env.OPAMP_GO_AGENT,
  resolve(REPO_ROOT, '../shared/tools/opamp-go-agent/opamp-go-agent'),
  resolve(REPO_ROOT, '../../shared/tools/opamp-go-agent/opamp-go-agent'),
].find((path): path is string => Boolean(path) && existsSync(path!));

export interface GoAgentEvent {
  event: string;
  t_ms: number;
  [field: string]: unknown;
}

/** Runs the agent with `args` until it stops by itself; resolves with its events, one per line of output. */
export function runGoAgent(args: string[], timeoutMs: number): Promise<GoAgentEvent[]> {
  return new Promise((done, fail) => {
    execFile(GO_AGENT!, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return fail(error);
      done(
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as GoAgentEvent),
      );
    });
  });
}
