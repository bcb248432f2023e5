import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { bucketClient } from './bucket.js';

/**
 * Everything a local backend keeps at rest, as text: every table item (binary
 * attributes decoded, and gunzipped where they are gzip) and every object in
 * the bucket. Tests search it for values that must never be stored.
 */
export async function everythingStored(backend: { dynamodbEndpoint: string; s3Endpoint: string }, table = 'opamp-local', bucket = 'opamp-local'): Promise<string> {
  const dynamodb = new DynamoDBClient({
    endpoint: backend.dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const parts: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) parts.push(JSON.stringify(item, (_k, v: unknown) => (v instanceof Uint8Array ? decoded(v) : v)));
    start = page.LastEvaluatedKey;
  } while (start);
  dynamodb.destroy();

  const s3 = bucketClient(backend.s3Endpoint);
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      parts.push(`${object.Key}\n${decoded(await body.Body!.transformToByteArray())}`);
    }
    token = page.NextContinuationToken;
  } while (token);
  s3.destroy();
  return parts.join('\n');
}

function decoded(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes);
  if (buffer[0] === 0x1f && buffer[1] === 0x8b) {
    try {
      return gunzipSync(buffer).toString('latin1');
    } catch {
      return buffer.toString('latin1');
    }
  }
  return buffer.toString('latin1');
}
