import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAgentStore } from '../../functions/adapters/dynamodb/agent-store.js';
import { StoreUnavailableError } from '../../functions/ports/errors.js';
import { withDeadline } from '../../functions/ports/deadline.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emulatorClients, newUid, provisionStores, serviceError } from './harness.js';
import type { Stores } from './harness.js';

/** The request deadline as the SDK clients see it: one bound for a store call, retries and back-off included. */

let stores: Stores;

beforeAll(async () => {
  stores = await provisionStores();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Throttles every attempt at the last step before the wire (after the retry
 * logic, so the SDK backs off and tries again). Returns the attempts that got
 * that far.
 */
function throttleEveryAttempt(client: DynamoDBClient): Error[] {
  const attempts: Error[] = [];
  client.middlewareStack.add(
    () => async () => {
      const error = serviceError('ThrottlingException', 400);
      attempts.push(error);
      throw error;
    },
    { step: 'deserialize', priority: 'low', name: 'throttleOnTheWire' },
  );
  return attempts;
}

describe('store calls under a request deadline', () => {
  it('give up at the deadline while the SDK is still retrying, and send no attempt after it', async () => {
    // Prepare
    const clients = emulatorClients();
    const attempts = throttleEveryAttempt(clients.dynamodb);
    const store = new DynamoAgentStore({ client: clients.dynamodb, tableName: stores.tableName, blobs: stores.blobs });

    // Act
    const started = performance.now();
    const error = await withDeadline(60, () => store.get(newUid())).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsedMs = performance.now() - started;
    const attemptsAtDeadline = attempts.length;
    await sleep(1_500);

    // Assess
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(attempts.length).toBe(attemptsAtDeadline);
  });

  it('leave work without a deadline (the bucket ingest) to the per-attempt limits', async () => {
    // Prepare
    const clients = emulatorClients();
    const attempts = throttleEveryAttempt(clients.dynamodb);
    const store = new DynamoAgentStore({ client: clients.dynamodb, tableName: stores.tableName, blobs: stores.blobs });

    // Act
    const error = await store.get(newUid()).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess: every attempt the client allows was made.
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(attempts.length).toBe(3);
  });

  it('answer normally when the store is in time', async () => {
    const uid = newUid();
    await expect(withDeadline(2_000, () => stores.agents.get(uid))).resolves.toBeUndefined();
  });
});
