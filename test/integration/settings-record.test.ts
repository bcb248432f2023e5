import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentKey, AGENT_STATE_SORT_KEY } from '../../functions/adapters/dynamodb/table-schema.js';
import type { AgentRecord } from '../../functions/core/agent-record.js';
import { settingsHashOf } from '../../functions/core/connection-settings.js';
import type { AppliedSettings, SettingsOffer } from '../../functions/core/connection-settings.js';
import { minimalRecord, newUid, provisionStores } from './harness.js';
import type { Stores } from './harness.js';

/**
 * An item's size as DynamoDB counts it for billing (write units are per
 * started kilobyte): attribute names plus values, numbers at about one byte
 * per two digits, maps and lists with a few bytes of overhead per element.
 */
function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + valueBytes(v) + 1, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + valueBytes(v) + 1, 0);
  return 0;
}

describe('connection settings state in the agent record', () => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await provisionStores();
  });

  const parts = { opamp: 'a1b2c3d4e5f6g7h8i9j0kA', ownMetrics: 'Zz9Yy8Xx7Ww6Vv5Uu4Tt3S' };
  // As the core makes it: the hash is the one its parts give (and is then not stored).
  const offer: SettingsOffer = {
    hash: settingsHashOf(parts),
    baseHash: 'Xy3mQ2c1hQeXgq3eN3kE9Y',
    parts,
    heartbeatSeconds: 60,
    offeredAt: 1_767_225_600_000,
    offeredSeq: 9_007_199_254_740_993n,
    attempts: 2,
    sent: ['opamp', 'ownMetrics'],
  };

  async function roundTrip(record: AgentRecord): Promise<AgentRecord | undefined> {
    await stores.agents.put({ record, expectedVersion: 0 });
    return stores.agents.get(record.instanceUid);
  }

  it("keeps the offer, the applied settings (the offer's or others), the interval asked for, the token and an issued certificate", async () => {
    const { heartbeatSeconds: _interval, ...withoutInterval } = offer;
    const applied: AppliedSettings = { hash: 'b3RoZXI=', baseHash: 'b3RoZXJiYXNl', parts: { opamp: 'cHJldmlvdXM' }, heartbeatSeconds: 300, at: 1_767_225_000_000, assumed: false };
    const cases: Array<Partial<AgentRecord>> = [
      { settingsOffer: offer, settingsApplied: { hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: 60, at: 1_767_225_601_000, assumed: true }, heartbeatSeconds: 60 },
      // The agent's report of the offer (its hash stored once), and of another hash.
      { settingsOffer: offer, connectionSettingsStatus: { hash: offer.hash, status: 3, errorMessage: 'cannot reach the endpoint' } },
      { settingsOffer: offer, connectionSettingsStatus: { hash: 'b2xkZXI=', status: 2, errorMessage: '' } },
      // An offer whose hash is not its parts' (as an older server version may have stored).
      { settingsOffer: { ...offer, hash: 'n2c1hQeXgq3eN3kE9Yb7q8VUuVn9u5hW2Xy3mQ2c1hQ=' } },
      { connectionSettingsStatus: { hash: '', status: 0, errorMessage: '' } },
      { settingsOffer: { ...offer, sent: ['ownMetrics'] }, settingsApplied: applied, heartbeatSeconds: 300 },
      { settingsOffer: withoutInterval, heartbeatSeconds: 15 },
      { settingsOffer: withoutInterval, settingsApplied: { ...applied, hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: 60 } },
      { settingsOffer: offer },
      { settingsApplied: applied, tokenName: 'fleet-2026-12' },
      {
        issuedCertificate: {
          certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
          caPem: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n',
          fingerprint: 'ab'.repeat(32),
          serialNumber: '0a1b2c',
          notAfter: 1_775_000_000_000,
          issuedAt: 1_767_225_600_000,
          csrDigest: 'cd'.repeat(32),
        },
      },
    ];
    for (const fields of cases) {
      const record = minimalRecord(newUid(), fields);

      const read = await roundTrip(record);

      expect(read).toStrictEqual(record);
    }
  });

  it("keeps a steered agent's record within one write unit: the applied settings are not stored twice", async () => {
    const attributes = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`attribute.${i}`, 'x'.repeat(20)]));
    const bare = minimalRecord(newUid(), { attributes });
    const steered = minimalRecord(newUid(), {
      attributes,
      settingsOffer: { ...offer, hash: settingsHashOf({ opamp: parts.opamp }), parts: { opamp: parts.opamp }, sent: ['opamp'] },
      settingsApplied: { hash: settingsHashOf({ opamp: parts.opamp }), baseHash: offer.baseHash, parts: { opamp: parts.opamp }, heartbeatSeconds: 60, at: 1_767_225_601_000, assumed: false },
      heartbeatSeconds: 60,
      connectionSettingsStatus: { hash: settingsHashOf({ opamp: parts.opamp }), status: 2, errorMessage: '' },
      tokenName: 'fleet-2026-12',
    });
    await roundTrip(bare);
    await roundTrip(steered);
    const raw = async (uid: string) =>
      (
        await stores.clients.dynamodb.send(
          new GetItemCommand({
            TableName: stores.tableName,
            Key: { pk: { S: agentKey(uid) }, sk: { S: AGENT_STATE_SORT_KEY } },
            ConsistentRead: true,
          }),
        )
      ).Item!;

    const before = itemBytes(await raw(bare.instanceUid));
    const after = itemBytes(await raw(steered.instanceUid));

    // The steering state itself (offer, applied, status, token) costs a few hundred bytes, not a kilobyte.
    expect(after - before).toBeLessThan(250);
    expect(after).toBeLessThan(1024);
  });
});
