import type { CreateTokenBody } from '../../functions/http/routes/tokens-api.js';
import type { CreatedToken, TokenView } from '../../functions/service/agent-tokens.js';
import { CliError } from '../api-client.js';
import { at } from '../command.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';

const TOKENS = '/api/v1/tokens';

export const tokenCommands: CommandSpec[] = [
  {
    words: ['tokens'],
    synopsis: '',
    summary: 'agent tokens, the agents using each and the settings handing each out',
    args: [0, 0],
    async run(ctx) {
      const { tokens } = await ctx.api.request<{ tokens: TokenView[] }>('GET', TOKENS);
      ctx.print({ tokens }, () => table(
        ['NAME', 'CREATED', 'FINGERPRINT', 'DELIVERABLE', 'AGENTS', 'SETTINGS'],
        tokens.map((t) => [
          t.name,
          t.createdAt,
          t.fingerprint,
          t.deliverable ? 'yes' : 'no',
          t.agents === undefined ? '-' : String(t.agents),
          t.settings?.join(',') || '-',
        ]),
      ));
    },
  },
  {
    words: ['token', 'create'],
    synopsis: '<name> [--deliverable]',
    summary: 'create an agent token (shown once); --deliverable keeps it on the server, so that settings ("opamp": {"token": <name>}) can hand it to agents',
    options: { deliverable: { type: 'boolean', default: false } },
    args: [1, 1],
    async run(ctx) {
      const body: CreateTokenBody = { name: ctx.nameArg('token'), ...(ctx.flag('deliverable') ? { deliverable: true } : {}) };
      const created = await ctx.api.request<CreatedToken>('POST', TOKENS, body);
      ctx.print(created, () => [
        `token ${created.name} (shown only now; agents send it as "Authorization: Bearer <token>"):`,
        created.token,
        ...(created.deliverable ? [`deliverable: the server keeps it; settings with "opamp": {"token": "${created.name}"} hand it to agents`] : []),
      ].join('\n'));
    },
  },
  {
    words: ['token', 'agents'],
    synopsis: '<name>',
    summary: 'the agents that last authenticated with a token',
    args: [1, 1],
    async run(ctx) {
      const using = await ctx.api.request<{ name: string; agents: string[] }>('GET', `${at(TOKENS, ctx.nameArg('token'))}/agents`);
      ctx.print(using, () => (using.agents.length === 0 ? `no agent last authenticated with token ${using.name}` : using.agents.join('\n')));
    },
  },
  {
    words: ['token', 'revoke'],
    synopsis: '<name> [--force]',
    summary: 'revoke an agent token (refused while agents or settings use it, unless --force)',
    options: { force: { type: 'boolean', default: false } },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('token');
      await ctx.api.request('DELETE', `${at(TOKENS, name)}${ctx.flag('force') ? '?force=true' : ''}`).catch((error: unknown) => {
        // 409: agents or settings still use the token; the server says which.
        if (error instanceof CliError && error.message.startsWith('409 ')) {
          throw new CliError(`${error.message} (opampctl token revoke ${name} --force revokes it anyway)`);
        }
        throw error;
      });
      ctx.print({ name, status: 'revoked' }, () => `token ${name} revoked`);
    },
  },
];
