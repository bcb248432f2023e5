/** Settings shared by every SDK client the backend makes (no SDK import here, so it costs nothing to load). */
export interface AwsClientOptions {
  /** Endpoint overrides (emulators, LocalStack); AWS itself when absent. */
  dynamodbEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
  secretsManagerEndpoint?: string | undefined;
  /** Dummy credentials and emulator-friendly S3 settings; never for real AWS. */
  emulated?: boolean;
  /** Limits of each attempt of a store call; DEFAULT_STORE_TIMEOUTS when absent. */
  timeouts?: StoreTimeouts | undefined;
}

/** Limits of one attempt of a store call (a request's deadline bounds all attempts together). */
export interface StoreTimeouts {
  /** Establishing the connection. */
  connectMs: number;
  /** From sending the request to the response headers; also the longest silence while a body streams. */
  requestMs: number;
}

export const DEFAULT_STORE_TIMEOUTS: StoreTimeouts = { connectMs: 1_000, requestMs: 2_000 };

const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Timeouts are short: a poll that cannot reach its store should answer 503
 * quickly rather than hold the agent (and the Lambda bill) until a network
 * timeout. The SDK only logs a warning when requestTimeout passes unless
 * throwOnRequestTimeout is set; socketTimeout ends a response whose body
 * stops arriving.
 */
export function clientSettings(options: AwsClientOptions = {}) {
  const timeouts = options.timeouts ?? DEFAULT_STORE_TIMEOUTS;
  const common = {
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.requestMs,
    },
    maxAttempts: 3,
    ...(options.emulated ? { credentials: EMULATOR_CREDENTIALS } : {}),
  };
  return {
    dynamodb: { ...common, ...(options.dynamodbEndpoint ? { endpoint: options.dynamodbEndpoint } : {}) },
    s3: {
      ...common,
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint, forcePathStyle: true } : {}),
      // The S3 emulator stores checksum-trailer uploads corrupted; real S3 keeps the SDK defaults.
      ...(options.emulated ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    },
    secretsManager: { ...common, ...(options.secretsManagerEndpoint ? { endpoint: options.secretsManagerEndpoint } : {}) },
  };
}
