import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { BackendConfig } from '../config.js';

/** opamp-go's polling interval when no server steers it. */
const CLIENT_DEFAULT_POLL_SECONDS = 30;
/** How much longer than the longest expected poll interval an idle connection is kept. */
const IDLE_MARGIN_SECONDS = 30;

/**
 * How long the local server keeps an idle agent connection open. Agents poll
 * over one kept-alive connection; when the server closes it at the moment
 * the agent sends its next poll, the agent gets a reset instead of a reply,
 * and opamp-go drops that message. Node's default (5 s) met agents polling
 * every 5 to 6 s that way. Kept open well past every interval the server
 * asks for (and the clients' usual default), a connection is only ever
 * closed long before the agent's next poll, which the agent sees and then
 * opens a new connection. Whole seconds, so that the Keep-Alive header,
 * which states whole seconds, says exactly when it is closed.
 */
export function idleConnectionMs(config: Pick<BackendConfig, 'core'>): number {
  const { idleSeconds, pendingSeconds } = config.core.settings.heartbeat;
  return (Math.max(idleSeconds, pendingSeconds, CLIENT_DEFAULT_POLL_SECONDS) + IDLE_MARGIN_SECONDS) * 1000;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export interface ListenOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  hostname: string;
  port: number;
  idleConnectionMs: number;
}

/** An HTTP/1.1 server (the only kind the local backend runs) for the app. */
export function listen(options: ListenOptions): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: options.fetch,
        hostname: options.hostname,
        port: options.port,
        // Node sends `Keep-Alive: timeout=<keepAliveTimeout in whole seconds>` and closes an
        // idle connection no sooner. Headers and request timeouts count only while a request
        // arrives, not while a connection waits idle, so their defaults stay.
        serverOptions: { keepAliveTimeout: options.idleConnectionMs },
      },
      () => resolve(server as Server),
    );
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(`port ${options.port} on ${options.hostname} is already in use (another backend?); stop what holds it, or set OPAMP_PORT to another port (0 picks a free one)`)
          : error,
      );
    });
  });
}
