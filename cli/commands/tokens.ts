import type { CreateTokenBody } from '../../functions/http/routes/tokens-api.js';
import type { CreatedToken, TokenView } from '../../functions/service/agent-tokens.js';
import type { RevocationOutcome } from '../../functions/service/credential-revocation.js';
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
      ctx.print({ tokens }, () =>
        table(
          ['NAME', 'CREATED', 'FINGERPRINT', 'DELIVERABLE', 'AGENTS', 'LIVE', 'SETTINGS'],
          tokens.map((t) => [
            t.name,
            t.createdAt,
            t.fingerprint,
            t.deliverable ? 'yes' : 'no',
            t.agents === undefined ? '-' : String(t.agents),
            t.live === undefined ? '-' : String(t.live) + (t.replacedBy !== undefined ? ` (moving to ${t.replacedBy})` : ''),
            t.settings?.join(',') || '-',
          ]),
        ),
      );
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
      ctx.print(created, () =>
        [
          `token ${created.name} (shown only now; agents send it as "Authorization: Bearer <token>"):`,
          created.token,
          ...(created.deliverable ? [`deliverable: the server keeps it; settings with "opamp": {"token": "${created.name}"} hand it to agents`] : []),
        ].join('\n'),
      );
    },
  },
  {
    words: ['token', 'agents'],
    synopsis: '<name>',
    summary: 'the agents that last authenticated with a token, and which of them are live',
    args: [1, 1],
    async run(ctx) {
      const using = await ctx.api.request<{ name: string; agents: string[]; liveAgents: string[] }>('GET', `${at(TOKENS, ctx.nameArg('token'))}/agents`);
      ctx.print(using, () =>
        using.agents.length === 0 ? `no agent last authenticated with token ${using.name}` : using.agents.map((uid) => `${uid}${using.liveAgents.includes(uid) ? '  live' : ''}`).join('\n'),
      );
    },
  },
  {
    words: ['token', 'revoke'],
    synopsis: '<name> [--replacement <token>] [--force]',
    summary:
      'revoke an agent token. With --replacement (a deliverable token), live agents still using it are moved to the replacement first: run it again to finish once they moved. Otherwise refused while live agents or settings use it, unless --force',
    options: { force: { type: 'boolean', default: false }, replacement: { type: 'string' } },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('token');
      const replacement = ctx.option('replacement');
      const query = new URLSearchParams({ ...(ctx.flag('force') ? { force: 'true' } : {}), ...(replacement !== undefined ? { replacement } : {}) });
      const outcome = await ctx.api.request<RevocationOutcome | undefined>('DELETE', `${at(TOKENS, name)}${query.size > 0 ? `?${query}` : ''}`).catch((error: unknown) => {
        // 409: live agents or settings still use the token; the server says which.
        if (error instanceof CliError && error.message.startsWith('409 ')) {
          throw new CliError(`${error.message} (opampctl token revoke ${name} --replacement <deliverable token> moves them first; opampctl token revoke ${name} --force revokes it anyway)`);
        }
        throw error;
      });
      if (outcome?.status === 'rotating') {
        ctx.print({ name, ...outcome }, () =>
          [
            `token ${name} is being replaced by ${outcome.replacement}: agents that present it are offered ${outcome.replacement}`,
            ...outcome.agents.map((uid) => `still on ${name}: ${uid}`),
            ...outcome.settings.map((s) => `settings ${s} still hand it out: change them to ${outcome.replacement}`),
            'run this again to revoke it once none is left',
          ].join('\n'),
        );
      } else {
        ctx.print({ name, status: 'revoked' }, () => `token ${name} revoked`);
      }
    },
  },
];
