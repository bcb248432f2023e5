import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { stateChanged } from '../../../functions/core/poll-record.js';
import { AGENT_UID_TEXT, T0 } from './fixtures.js';

const BASE: AgentRecord = {
  instanceUid: AGENT_UID_TEXT,
  version: 3,
  sequenceNum: 5n,
  lastMessageDigest: 'd5',
  capabilities: 7n,
  firstSeenAt: T0,
  lastSeenAt: T0,
  attributes: { 'service.name': 'checkout', 'host.name': 'h1' },
  sections: { description: 'desc-1' },
  sectionIds: { description: 'desc-1~v1' },
  packages: { '': { hasVersion: '1', offeredVersion: '2', status: 'Installing' } },
  outbox: [{ id: 'm1', capability: 'c', type: 't', data: '', queuedAt: T0, expiresAt: T0 + 1 }],
  expiresAt: 100,
};

describe('stateChanged', () => {
  it.each<[string, Partial<AgentRecord> | ((r: AgentRecord) => void), boolean]>([
    ['nothing but bookkeeping', { version: 4, sequenceNum: 6n, lastMessageDigest: 'd6', lastSeenAt: T0 + 1, expiresAt: 200 }, false],
    [
      'equal copies of every field, keys in another order',
      {
        attributes: { 'host.name': 'h1', 'service.name': 'checkout' },
        sections: { description: 'desc-1' },
        packages: { '': { status: 'Installing', offeredVersion: '2', hasVersion: '1' } },
        outbox: [{ expiresAt: T0 + 1, queuedAt: T0, data: '', type: 't', capability: 'c', id: 'm1' }],
      },
      false,
    ],
    ['a field set to undefined where it was absent', { disconnectedAt: undefined }, false],
    ['the capabilities', { capabilities: 15n }, true],
    ['a nested value', { packages: { '': { hasVersion: '1', offeredVersion: '2', status: 'InstallFailed' } } }, true],
    ['an array element', { outbox: [{ id: 'm1', capability: 'c', type: 't', data: 'x', queuedAt: T0, expiresAt: T0 + 1 }] }, true],
    ['an array length', { outbox: [] }, true],
    ['a new field', { healthy: true }, true],
    ['a removed field', (r) => delete r.packages, true],
    ['a removed key inside a field', { attributes: { 'service.name': 'checkout' } }, true],
    ['a key added inside a field', { attributes: { 'service.name': 'checkout', 'host.name': 'h1', 'os.type': 'linux' } }, true],
  ])('%s: %s', (_name, change, expected) => {
    // Arrange
    const next = structuredClone(BASE);
    if (typeof change === 'function') change(next);
    else Object.assign(next, change);

    // Act
    const changed = stateChanged(BASE, next);

    // Assert
    expect(changed).toBe(expected);
  });
});
