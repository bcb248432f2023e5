/**
 * What the app needs from logging and metrics. Powertools Logger satisfies
 * `AppLogger`; metrics are counted through `count` so that the HTTP and
 * service layers stay independent of how metrics are shipped (EMF on Lambda).
 */
export interface AppLogger {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

export interface Telemetry {
  logger: AppLogger;
  /** Adds to a named counter for the current request. */
  count(metric: string, value?: number): void;
  /** Adds keys to every later log line of the current request (a no-op where requests share a process). */
  annotate?(keys: Record<string, string>): void;
}

const silentLogger: AppLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const NO_TELEMETRY: Telemetry = { logger: silentLogger, count() {} };
