import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/adapters/aws-clients.js';
import { AGENT_STATE_SORT_KEY, agentKey } from '../../functions/adapters/dynamodb/table-schema.js';
import { AgentToServerSchema, CustomCapabilitiesSchema, PackageStatusesSchema, ServerErrorResponseType, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { KeyValue } from '../../functions/gen/opamp/v1/anyvalue_pb.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import { itemSize } from '../../scripts/bench/meter.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { description, fullReport, newUidBytes } from '../support/messages.js';

/** The request body limit the backend runs with by default (2 MiB). */
const BODY_LIMIT = 2 * 1024 * 1024;
/** DynamoDB refuses items above 400 KB. */
const ITEM_LIMIT = 400 * 1024;

function stringAttributes(count: number, valueBytes: number, prefix = 'attr'): KeyValue[] {
  const value = 'v'.repeat(valueBytes);
  return description({}, Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}.${i}`, value]))).nonIdentifyingAttributes;
}

/** A full report whose description carries the given extra attributes. */
function withAttributes(uid: Uint8Array, extra: KeyValue[]): AgentToServer {
  const message = fullReport(uid, 1n);
  message.agentDescription!.nonIdentifyingAttributes.push(...extra);
  return message;
}

describe('messages under the body limit whose content would not fit one DynamoDB item', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    // The largest messages take seconds of CPU on a busy test machine: this is about item size, not deadlines.
    backend = await startTestBackend({ OPAMP_MAX_REQUEST_BYTES: String(BODY_LIMIT), OPAMP_POLL_DEADLINE_SECONDS: '8' });
  });
  afterAll(async () => {
    await backend.close();
  });

  async function post(message: AgentToServer): Promise<number> {
    const body = toBinary(AgentToServerSchema, message);
    expect(body.byteLength).toBeLessThanOrEqual(BODY_LIMIT);
    const res = await fetch(backend.opampUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    await res.arrayBuffer();
    return res.status;
  }

  async function stateItemBytes(uid: string): Promise<number> {
    const { dynamodb } = createAwsClients({ dynamodbEndpoint: backend.dynamodbEndpoint, s3Endpoint: backend.s3Endpoint, emulated: true });
    const out = await dynamodb.send(
      new GetItemCommand({
        TableName: 'opamp-local',
        Key: { pk: { S: agentKey(uid) }, sk: { S: AGENT_STATE_SORT_KEY } },
        ConsistentRead: true,
      }),
    );
    expect(out.Item).toBeDefined();
    return itemSize(out.Item!);
  }

  async function view(uid: string): Promise<any> {
    const res = await fetch(`${backend.url}/api/v1/agents/${uid}`);
    expect(res.status).toBe(200);
    return res.json();
  }

  it('stores 100,000 attributes: the full set in the description, a cut one marked in the record', async () => {
    const uid = newUidBytes();
    const message = withAttributes(uid, stringAttributes(100_000, 1));

    const status = await post(message);

    expect(status).toBe(200);
    expect(await stateItemBytes(instanceUidToText(uid))).toBeLessThan(ITEM_LIMIT);
    const body = await view(instanceUidToText(uid));
    expect(body.attributesTruncated).toMatchObject({ kept: expect.any(Number), total: 100_004 });
    expect(Object.keys(body.attributes).length).toBe(body.attributesTruncated.kept);
    expect(Object.keys(body.description.nonIdentifyingAttributes)).toHaveLength(100_002);
    // Identifying attributes are kept first: they are what selectors match on most.
    expect(body.attributes['service.name']).toBe('io.opentelemetry.collector');
  });

  it('stores 5,000 attributes of 100 bytes', async () => {
    const uid = newUidBytes();

    const status = await post(withAttributes(uid, stringAttributes(5_000, 100)));

    expect(status).toBe(200);
    expect(await stateItemBytes(instanceUidToText(uid))).toBeLessThan(ITEM_LIMIT);
    const body = await view(instanceUidToText(uid));
    expect(body.attributesTruncated.total).toBe(5_004);
    expect(body.description.nonIdentifyingAttributes['attr.4999']).toHaveLength(100);
  });

  it('stores one attribute value at the body limit: the record marks it cut, the description keeps it whole', async () => {
    const uid = newUidBytes();
    const message = fullReport(uid, 1n);
    const overhead = toBinary(AgentToServerSchema, message).byteLength + 64;
    message.agentDescription!.nonIdentifyingAttributes.push(...stringAttributes(1, BODY_LIMIT - overhead, 'huge'));

    const status = await post(message);

    expect(status).toBe(200);
    expect(await stateItemBytes(instanceUidToText(uid))).toBeLessThan(ITEM_LIMIT);
    const body = await view(instanceUidToText(uid));
    expect(body.attributesTruncated.omitted).toContain('huge.0');
    expect(body.attributes['huge.0']).toBeUndefined();
    expect(body.description.nonIdentifyingAttributes['huge.0']).toHaveLength(BODY_LIMIT - overhead);
  });

  it('refuses state the bounds do not cover and that would not fit with a BadRequest, storing nothing', async () => {
    const uid = newUidBytes();
    const packages = Object.fromEntries(
      Array.from({ length: 1_500 }, (_, i) => {
        const name = `${'p'.repeat(200)}-${i}`;
        return [name, { name, agentHasVersion: '1.0.0' }];
      }),
    );
    const message = fullReport(uid, 1n, { packageStatuses: create(PackageStatusesSchema, { packages }) });

    const res = await fetch(backend.opampUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: toBinary(AgentToServerSchema, message),
    });

    expect(res.status).toBe(400);
    const reply = fromBinary(ServerToAgentSchema, new Uint8Array(await res.arrayBuffer()));
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expect(reply.errorResponse?.errorMessage).toMatch(/state would take \d+ bytes/);
    expect((await fetch(`${backend.url}/api/v1/agents/${instanceUidToText(uid)}`)).status).toBe(404);
  });

  it('stores 100,000 custom capabilities, cut with a marker', async () => {
    const uid = newUidBytes();
    const capabilities = Array.from({ length: 100_000 }, (_, i) => `c.${i}`);
    const message = fullReport(uid, 1n, { customCapabilities: create(CustomCapabilitiesSchema, { capabilities }) });

    const status = await post(message);

    expect(status).toBe(200);
    expect(await stateItemBytes(instanceUidToText(uid))).toBeLessThan(ITEM_LIMIT);
    const body = await view(instanceUidToText(uid));
    expect(body.customCapabilitiesTruncated).toMatchObject({ total: 100_000 });
    expect(body.customCapabilities.length).toBe(body.customCapabilitiesTruncated.kept);
    expect(body.customCapabilities[0]).toBe('c.0');
  });
});
