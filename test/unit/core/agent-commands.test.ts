import { describe, expect, it } from 'vitest';
import { acceptsRestart, dueCommand, nextMessage } from '../../../functions/core/agent-commands.js';
import type { QueuedCommand, QueuedMessage } from '../../../functions/core/agent-commands.js';
import { MINUTE, T0 } from './fixtures.js';
import { ACCEPTS_RESTART, PKG_CAPS } from './package-fixtures.js';

const command: QueuedCommand = { type: 'restart', id: 'cmd-1', queuedAt: T0, expiresAt: T0 + 10 * MINUTE };

function message(id: string, capability: string, expiresAt = T0 + 10 * MINUTE): QueuedMessage {
  return { id, capability, type: 'ping', data: Buffer.from(id).toString('base64'), queuedAt: T0, expiresAt };
}

describe('acceptsRestart', () => {
  it.each<[string, bigint, boolean]>([
    ['with AcceptsRestartCommand', PKG_CAPS | ACCEPTS_RESTART, true],
    ['without it', PKG_CAPS, false],
    ['with nothing', 0n, false],
  ])('is true only %s', (_name, capabilities, expected) => {
    expect(acceptsRestart(capabilities)).toBe(expected);
  });
});

describe('dueCommand', () => {
  it.each<[string, QueuedCommand | undefined, bigint, number, boolean]>([
    ['a queued command to an agent that accepts it', command, ACCEPTS_RESTART, T0 + MINUTE, true],
    ['the last moment before it expires', command, ACCEPTS_RESTART, command.expiresAt - 1, true],
    ['the moment it expires', command, ACCEPTS_RESTART, command.expiresAt, false],
    ['an agent that dropped AcceptsRestartCommand', command, PKG_CAPS, T0 + MINUTE, false],
    ['nothing queued', undefined, ACCEPTS_RESTART, T0, false],
  ])('is due for %s', (_name, queued, capabilities, now, due) => {
    // Act
    const result = dueCommand(queued, capabilities, now);

    // Assess
    expect(result).toBe(due ? queued : undefined);
  });
});

describe('nextMessage', () => {
  it('delivers the first live message for an advertised capability, skipping others in the queue', () => {
    // Prepare
    const outbox = [message('m1', 'io.other'), message('m2', 'io.pause'), message('m3', 'io.pause')];

    // Act
    const result = nextMessage(outbox, ['io.pause'], T0 + MINUTE);

    // Assess
    expect(result).toEqual({ deliver: outbox[1], expired: [] });
  });

  it('lists the expired messages and never delivers one', () => {
    // Prepare
    const outbox = [message('old', 'io.pause', T0), message('live', 'io.pause', T0 + MINUTE + 1)];

    // Act
    const result = nextMessage(outbox, ['io.pause'], T0 + MINUTE);

    // Assess
    expect(result.deliver).toBe(outbox[1]);
    expect(result.expired).toEqual([outbox[0]]);
  });

  it.each<[string, QueuedMessage[] | undefined, string[] | undefined]>([
    ['no outbox', undefined, ['io.pause']],
    ['an agent that advertised no capability', [message('m1', 'io.pause')], undefined],
    ['an agent that advertised other capabilities', [message('m1', 'io.pause')], ['io.other']],
  ])('delivers nothing with %s', (_name, outbox, capabilities) => {
    // Act
    const result = nextMessage(outbox, capabilities, T0);

    // Assess
    expect(result).toEqual({ expired: [] });
  });
});
