import { GetObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../functions/adapters/s3/blob-store.js';
import { bytesOfLength, provisionStores, uniqueName } from './harness.js';
import type { Stores } from './harness.js';

let stores: Stores;

beforeAll(async () => {
  stores = await provisionStores();
});

describe('S3BlobStore', () => {
  it('reads back binary data byte for byte, including every byte value', async () => {
    // Prepare: all 256 byte values (a text round trip would mangle them) and a larger body.
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const large = bytesOfLength(2 * 1024 * 1024 + 17, 3);

    // Act
    await stores.blobs.put('agent-state/health/all-bytes.binpb', allBytes, 'application/x-protobuf');
    await stores.blobs.put('agent-state/effectiveConfig/large.binpb', large);
    const gotAll = await stores.blobs.get('agent-state/health/all-bytes.binpb');
    const gotLarge = await stores.blobs.get('agent-state/effectiveConfig/large.binpb');

    // Assess
    expect(gotAll).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(gotAll!).equals(Buffer.from(allBytes))).toBe(true);
    expect(gotLarge?.length).toBe(large.length);
    expect(Buffer.from(gotLarge!).equals(Buffer.from(large))).toBe(true);
  });

  it('stores the content type it is given', async () => {
    // Act
    await stores.blobs.put('typed/object.binpb', bytesOfLength(10), 'application/x-protobuf');

    // Assess
    const out = await stores.clients.s3.send(new GetObjectCommand({ Bucket: stores.stateBucketName, Key: 'typed/object.binpb' }));
    await out.Body?.transformToByteArray();
    expect(out.ContentType).toBe('application/x-protobuf');
  });

  it('round-trips an empty object', async () => {
    // Act
    await stores.blobs.put('empty/object', new Uint8Array());

    // Assess
    const got = await stores.blobs.get('empty/object');
    expect(got).toBeDefined();
    expect(got!.length).toBe(0);
  });

  it('overwrites an object under the same key', async () => {
    // Prepare
    await stores.blobs.put('overwritten/key', bytesOfLength(100, 1));
    const replacement = bytesOfLength(50, 2);

    // Act
    await stores.blobs.put('overwritten/key', replacement);

    // Assess
    expect(Buffer.from((await stores.blobs.get('overwritten/key'))!).equals(Buffer.from(replacement))).toBe(true);
  });

  it('answers undefined for a key that was never stored', async () => {
    // Act / Assess
    await expect(stores.blobs.get(`missing/${uniqueName('key')}.binpb`)).resolves.toBeUndefined();
  });

  it('rejects, not answers undefined, when the bucket does not exist', async () => {
    // Prepare
    const missingBucket = new S3BlobStore(stores.clients.s3, uniqueName('no-such-bucket'));

    // Act / Assess: a missing bucket is a deployment fault, not a missing object.
    await expect(missingBucket.get('any/key')).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
