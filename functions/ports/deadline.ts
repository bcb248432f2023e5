import { AsyncLocalStorage } from 'node:async_hooks';
import { DeadlineExceededError } from './errors.js';

/**
 * The time by which the request being served must be answered. The HTTP edge
 * sets it for each request; every store call made on the request's behalf
 * gives up when it passes (see adapters/deadlines.ts), so a silent store turns
 * into a 503 instead of a request that outlives its function.
 */
export interface Deadline {
  /** Milliseconds since the epoch. */
  at: number;
  /** Aborted when the deadline passes. */
  signal: AbortSignal;
}

const scope = new AsyncLocalStorage<Deadline>();

/** The deadline of the request this code runs for, if any (background work has none). */
export function currentDeadline(): Deadline | undefined {
  return scope.getStore();
}

/** Runs `work` with a deadline `ms` from now; every store call it makes, directly or not, sees it. */
export async function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError()), ms);
  try {
    return await scope.run({ at: Date.now() + ms, signal: controller.signal }, work);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Throws DeadlineExceededError when the deadline of the request this code
 * runs for has passed. Called before each write a request makes: once the
 * edge may have answered 503, nothing more of that request may be stored,
 * whatever store (or store wrapper) is wired.
 */
export function assertBeforeDeadline(deadline: Deadline | undefined = currentDeadline()): void {
  if (deadline?.signal.aborted) throw new DeadlineExceededError();
}

/**
 * Settles as `work` does, or rejects with DeadlineExceededError once the
 * deadline passes, whichever comes first. What `work` does afterwards is no
 * longer awaited; its outcome is dropped.
 */
export function beforeDeadline<T>(work: Promise<T>, deadline: Deadline | undefined = currentDeadline()): Promise<T> {
  if (!deadline) return work;
  const { signal } = deadline;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new DeadlineExceededError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineExceededError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
