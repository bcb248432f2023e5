import { toBinary } from '@bufbuild/protobuf';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { contentId } from '../../functions/core/canonical-hash.js';
import { DEFAULT_CORE_OPTIONS } from '../../functions/core/core-options.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import type { SectionKind } from '../../functions/core/sections.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { PollService } from '../../functions/service/poll-service.js';
import { COLLECTOR_CAPS, agentToServer, fullReport, health, newUidBytes } from '../support/messages.js';
import { emulatorClients, newUid, provisionStores, serviceError } from './harness.js';

describe('PollService over DynamoAgentStore: a record write whose answer was lost', () => {
  it('keeps the sections of a record write that succeeded although the SDK retry reported a conflict', async () => {
    const clients = emulatorClients();
    let armed = false;
    let fired = 0;
    (clients.dynamodb as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (armed && context.commandName === 'PutItemCommand') {
          armed = false;
          fired++;
          throw serviceError('InternalServerError', 500); // the write happened; its answer is lost
        }
        return result;
      },
      { step: 'deserialize', name: 'lostResponse' },
    );
    const stores = await provisionStores({ clients });
    let now = 1_760_000_000_000;
    const service = new PollService({ agents: stores.agents, now: () => now, newInstanceUid: newUid, options: DEFAULT_CORE_OPTIONS });
    const uidBytes = newUidBytes();
    const uid = instanceUidToText(uidBytes);
    const report = fullReport(uidBytes, 1n);
    await service.poll(report, contentId(toBinary(AgentToServerSchema, report)));
    now += 15_000;
    const change = agentToServer({ instanceUid: uidBytes, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, health: health(false, {}, 'down') });
    armed = true;
    const outcome = await service.poll(change, contentId(toBinary(AgentToServerSchema, change)));
    // Assess: the retry meets its own committed write (a duplicate), and every section that record refers to exists.
    expect(fired).toBe(1);
    expect(outcome.conflicts).toBe(1);
    const record = (await stores.agents.get(uid))!;
    expect(record.version).toBe(2);
    for (const [kind, id] of Object.entries(record.sectionIds) as Array<[SectionKind, string]>) {
      expect(await stores.agents.getSection(uid, { kind, id }), `${kind} ${id}`).toBeDefined();
    }
  });
});
