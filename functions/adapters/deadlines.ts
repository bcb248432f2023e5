import { beforeDeadline, currentDeadline, DeadlineExceededError } from '../ports/deadline.js';

type Handler = (args: never) => Promise<unknown>;

/** Any SDK client: all that is needed here is its middleware stack. */
interface SdkClient {
  middlewareStack: object;
}

interface Stack {
  add(middleware: (next: Handler) => Handler, options: { step: 'initialize' | 'deserialize'; name: string; priority: 'high' }): void;
}

/**
 * Makes every command of `client` respect the deadline of the request it runs
 * for (ports/deadline.ts): the whole command, retries and back-off included,
 * fails with a timeout once the deadline passes, and no further attempt goes
 * out after it. Work without a deadline (the bucket ingest) is left alone; the
 * per-attempt timeouts of client-settings.ts still bound it.
 */
export function enforceDeadlines<C extends SdkClient>(client: C): C {
  const stack = client.middlewareStack as unknown as Stack;
  stack.add(
    (next) => async (args) => {
      const deadline = currentDeadline();
      if (!deadline) return next(args);
      try {
        return await beforeDeadline(next(args), deadline);
      } catch (error) {
        // Whatever the SDK made of an abort, past the deadline it is a timeout.
        if (deadline.signal.aborted && !(error instanceof DeadlineExceededError)) throw new DeadlineExceededError(undefined, { cause: error });
        throw error;
      }
    },
    { step: 'initialize', name: 'opampDeadline', priority: 'high' },
  );
  // Runs once per attempt, after the retry logic: a retry that would start past the deadline is not sent.
  stack.add(
    (next) => async (args) => {
      if (currentDeadline()?.signal.aborted) throw new DeadlineExceededError();
      return next(args);
    },
    { step: 'deserialize', name: 'opampDeadlineAttempt', priority: 'high' },
  );
  return client;
}
