// `opampctl console`: the fleet console on this machine, over a fleet API
// anywhere. Every API call is signed with the caller's AWS credentials, so the
// fleet API stays IAM-only and nothing new is exposed in the account.
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { createConsoleApp } from '../functions/console/app.js';
import { ApiClient, CliError, resolveApiTarget } from './api-client.js';

export const CONSOLE_USAGE = `Usage: opampctl console [--port <n>] [--api <url> | --stack <name>] [--region <name>]

Serves the fleet console on http://127.0.0.1:<port> (default 4321; 0 picks a free port) and
signs its fleet API calls with your AWS credentials when the API is not on this machine.`;

export const DEFAULT_CONSOLE_PORT = 4321;

export interface RunningConsole {
  url: string;
  apiBaseUrl: string;
  close(): Promise<void>;
}

/** Starts the console server; the caller decides when to stop it. */
export async function startConsole(argv: string[]): Promise<RunningConsole | undefined> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      api: { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      port: { type: 'string', default: String(DEFAULT_CONSOLE_PORT) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port takes a port number (0-65535), not ${values.port}`);
  const target = await resolveApiTarget({ api: values.api, stack: values.stack, region: values.region });
  const api = new ApiClient(target);
  const app = createConsoleApp({ fetch: (request) => api.forward(request), apiBaseUrl: target.baseUrl, localOnly: true });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => resolve(started));
    started.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new CliError(`port ${port} on 127.0.0.1 is already in use (choose another with --port)`) : error));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiBaseUrl: target.baseUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The command: start, say where, and run until Ctrl-C. */
export async function consoleCommand(argv: string[], out: (line: string) => void = console.log): Promise<void> {
  const running = await startConsole(argv);
  if (!running) {
    out(CONSOLE_USAGE);
    return;
  }
  out(`Fleet console: ${running.url}/  (fleet API ${running.apiBaseUrl})\nPress Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
