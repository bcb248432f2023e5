// The large-messages scenario: valid messages at or near the request body
// limit whose content would not fit one DynamoDB item. Each is sent as a new
// agent's first message; the reply status, the handler's CPU time and the size
// of the agent's state item are taken.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { create, toBinary } from '@bufbuild/protobuf';
import { AGENT_STATE_SORT_KEY, agentKey } from '../../functions/adapters/dynamodb/table-schema.js';
import { AgentToServerSchema, CustomCapabilitiesSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { description, newUidBytes } from '../../test/support/messages.js';
import { SimAgent } from './agents.js';
import { createInstance, uidText } from './harness.js';
import { itemSize } from './meter.js';
import { START_MS } from './scenarios.js';
import type { ScenarioOptions, Target } from './scenarios.js';

const SAMPLES = 3;
const ITEM_LIMIT = 400 * 1024;
const CPU_LIMIT_MS = 1000;

export interface LargeMessageRun {
  shape: string;
  requestBytes: number;
  statuses: number[];
  handlerCpuMsMax: number;
  handlerCpuMsMean: number;
  stateItemBytes: number;
}

export interface LargeMessagesResult {
  scenario: 'large-messages';
  bodyLimitBytes: number;
  runs: LargeMessageRun[];
  targets: Target[];
}

type Shape = [name: string, make: (bodyLimit: number) => AgentToServer];

const SHAPES: Shape[] = [
  ['100,000 attributes', () => withAttributes(100_000, 1)],
  ['5,000 attributes of 100 bytes', () => withAttributes(5_000, 100)],
  [
    'one attribute value at the body limit',
    (limit) => {
      const message = withAttributes(0, 0);
      const overhead = toBinary(AgentToServerSchema, message).byteLength + 64;
      message.agentDescription!.nonIdentifyingAttributes.push(...attributes(1, limit - overhead));
      return message;
    },
  ],
  [
    '100,000 custom capabilities',
    () => {
      const message = withAttributes(0, 0);
      message.customCapabilities = create(CustomCapabilitiesSchema, { capabilities: Array.from({ length: 100_000 }, (_, i) => `c.${i}`) });
      return message;
    },
  ],
];

export async function runLargeMessages(options: Pick<ScenarioOptions, 'endpoints' | 'logs' | 'auth' | 'progress'>): Promise<LargeMessagesResult> {
  const instance = await createInstance('large', options.endpoints, options.logs, options.auth, START_MS);
  const bodyLimit = instance.config.limits.maxRequestBytes;
  // Warm the path (JIT, caches) with an ordinary agent first.
  await instance.poll(new SimAgent(0).fullReport());
  const runs: LargeMessageRun[] = [];
  for (const [shape, make] of SHAPES) {
    options.progress(`large-messages: ${shape}`);
    const statuses: number[] = [];
    const cpu: number[] = [];
    let requestBytes = 0;
    let stateItemBytes = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const message = make(bodyLimit);
      const result = await instance.poll(message);
      requestBytes = result.reqBytes;
      statuses.push(result.status);
      cpu.push(result.cpuUs / 1000);
      const out = await instance.clients.dynamodb.send(
        new GetItemCommand({
          TableName: instance.tableName,
          Key: { pk: { S: agentKey(uidText(message.instanceUid)) }, sk: { S: AGENT_STATE_SORT_KEY } },
          ConsistentRead: true,
        }),
      );
      stateItemBytes = Math.max(stateItemBytes, out.Item ? itemSize(out.Item) : 0);
    }
    runs.push({
      shape,
      requestBytes,
      statuses,
      handlerCpuMsMax: round2(Math.max(...cpu)),
      handlerCpuMsMean: round2(cpu.reduce((s, x) => s + x, 0) / cpu.length),
      stateItemBytes,
    });
  }
  const targets = runs.flatMap((r) => [
    { name: `${r.shape}: status`, limit: '200', measured: r.statuses.join(','), held: r.statuses.every((s) => s === 200) },
    { name: `${r.shape}: state item bytes`, limit: `< ${ITEM_LIMIT}`, measured: String(r.stateItemBytes), held: r.stateItemBytes > 0 && r.stateItemBytes < ITEM_LIMIT },
    { name: `${r.shape}: handler CPU ms (max of ${SAMPLES})`, limit: `< ${CPU_LIMIT_MS}`, measured: String(r.handlerCpuMsMax), held: r.handlerCpuMsMax < CPU_LIMIT_MS },
  ]);
  return { scenario: 'large-messages', bodyLimitBytes: bodyLimit, runs, targets };
}

function attributes(count: number, valueBytes: number) {
  const value = 'v'.repeat(valueBytes);
  return description({}, Object.fromEntries(Array.from({ length: count }, (_, i) => [`attr.${i}`, value]))).nonIdentifyingAttributes;
}

/** A Collector's full report whose description carries `count` extra attributes. */
function withAttributes(count: number, valueBytes: number): AgentToServer {
  const agent = new SimAgent(0);
  const message = agent.fullReport();
  message.instanceUid = newUidBytes();
  message.agentDescription!.nonIdentifyingAttributes.push(...attributes(count, valueBytes));
  return message;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
