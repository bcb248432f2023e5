import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
}

export interface AwsClientOptions {
  /** Endpoint overrides (emulators, LocalStack); AWS itself when absent. */
  dynamodbEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
  /** Dummy credentials and emulator-friendly S3 settings; never for real AWS. */
  emulated?: boolean;
}

const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * SDK clients, created once per function instance. Timeouts are short: a poll
 * that cannot reach its store should answer 503 quickly rather than hold the
 * agent (and the Lambda bill) until a network timeout.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const requestHandler = { connectionTimeout: 1_000, requestTimeout: 5_000 };
  const credentials = options.emulated ? { credentials: EMULATOR_CREDENTIALS } : {};
  return {
    dynamodb: new DynamoDBClient({
      region,
      requestHandler,
      maxAttempts: 3,
      ...credentials,
      ...(options.dynamodbEndpoint ? { endpoint: options.dynamodbEndpoint } : {}),
    }),
    s3: new S3Client({
      region,
      requestHandler,
      maxAttempts: 3,
      ...credentials,
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint, forcePathStyle: true } : {}),
      // The S3 emulator stores checksum-trailer uploads corrupted; real S3 keeps the SDK defaults.
      ...(options.emulated ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    }),
  };
}
