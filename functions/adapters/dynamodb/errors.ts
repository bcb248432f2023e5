import { StoreUnavailableError } from '../../ports/errors.js';
import { isUnreadableResponse } from '../unreadable-response.js';

/** DynamoDB error names that mean "try again later" rather than "this request is wrong". */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Maps an SDK failure to StoreUnavailableError when retrying can help
 * (throttling, 5xx, network or timeout); anything else is a defect in the
 * request and is rethrown unchanged.
 */
export function translateDynamoError(error: unknown, operation: string): never {
  if (isRetryable(error)) {
    const name = error instanceof Error ? error.name : 'Error';
    throw new StoreUnavailableError('dynamodb', `DynamoDB ${operation} failed: ${name}`, { cause: error });
  }
  throw error;
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE.has(error.name)) return true;
  const meta = error as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string; $response?: unknown; $fault?: unknown };
  if (meta.$retryable) return true;
  if (isUnreadableResponse(meta)) return true;
  const status = meta.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  // Network failures surface as system errors without an HTTP status.
  return status === undefined && typeof meta.code === 'string' && /^E[A-Z]+/.test(meta.code);
}
