import type { QueuedMessage, ReceivedMessage } from '../../functions/core/agent-commands.js';
import type { MessageBody, RestartsBody } from '../../functions/http/routes/agent-actions-api.js';
import type { QueuedView, RestartsResult } from '../../functions/service/agent-actions.js';
import { at, readBytes } from '../command.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';

const AGENTS = '/api/v1/agents';

export const agentActionCommands: CommandSpec[] = [
  {
    words: ['restart'],
    synopsis: '<instance-uid> | --selector k=v,...',
    summary: 'restart one agent on its next poll, or every matching agent that accepts restarts',
    options: { selector: { type: 'string' } },
    args: [0, 1],
    async run(ctx) {
      const selector = ctx.option('selector');
      if (selector !== undefined) {
        if (ctx.args.length > 0) throw ctx.usageError('give an instance uid or --selector, not both');
        const body: RestartsBody = { selector };
        const result = await ctx.api.request<RestartsResult>('POST', '/api/v1/restarts', body);
        ctx.print(result, () => [`restart queued for ${result.queued.length} agent(s)`, ...result.skipped.map((s) => `skipped ${s.instanceUid}: ${s.reason}`)].join('\n'));
        return;
      }
      const uid = ctx.arg(0, '<instance-uid> (or --selector k=v,...)');
      const queued = await ctx.api.request<QueuedView>('POST', `${at(AGENTS, uid)}/restart`);
      ctx.print({ instanceUid: uid, ...queued }, () => `restart queued for ${uid}; delivered on its next poll (expires ${queued.expiresAt})`);
    },
  },
  {
    words: ['message', 'send'],
    synopsis: '<instance-uid> --capability <c> --type <t> [--data <text> | --data-file <path>]',
    summary: 'queue a custom message for an agent',
    options: { capability: { type: 'string' }, type: { type: 'string' }, data: { type: 'string' }, 'data-file': { type: 'string' } },
    args: [1, 1],
    async run(ctx) {
      const uid = ctx.arg(0, '<instance-uid>');
      const dataFile = ctx.option('data-file');
      if (dataFile !== undefined && ctx.option('data') !== undefined) throw ctx.usageError('give at most one of --data and --data-file');
      const body: MessageBody = {
        capability: ctx.requiredOption('capability', '<name>'),
        type: ctx.requiredOption('type', '<type>'),
        ...(dataFile !== undefined ? { dataBase64: (await readBytes(dataFile)).toString('base64') } : { data: ctx.option('data') ?? '' }),
      };
      const queued = await ctx.api.request<QueuedView>('POST', `${at(AGENTS, uid)}/messages`, body);
      ctx.print({ instanceUid: uid, ...queued }, () => `message queued for ${uid}; delivered on its next poll`);
    },
  },
  {
    words: ['messages'],
    synopsis: '<instance-uid>',
    summary: 'custom messages an agent sent, and how many are queued for it',
    args: [1, 1],
    async run(ctx) {
      const uid = ctx.arg(0, '<instance-uid>');
      const box = await ctx.api.request<{ received: ReceivedMessage[]; queued: QueuedMessage[] }>('GET', `${at(AGENTS, uid)}/messages`);
      ctx.print(box, () =>
        [
          table(
            ['RECEIVED', 'CAPABILITY', 'TYPE', 'DATA'],
            box.received.map((m) => [new Date(m.receivedAt).toISOString(), m.capability, m.type, printable(m.data) + (m.truncated ? ' (truncated)' : '')]),
          ),
          box.queued.length > 0 ? `${box.queued.length} message(s) waiting for the agent's next poll` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    },
  },
];

function printable(base64: string): string {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  return /^[\x20-\x7e\n\t]*$/.test(text) ? text.replace(/\n/g, ' ').slice(0, 60) : `(${Buffer.from(base64, 'base64').length} bytes)`;
}
