import type { AgentListQueryParams } from '../../functions/http/routes/agents-api.js';
import type { AgentListResult } from '../../functions/service/agent-queries.js';
import type { AgentDetailView, AgentSummaryView, StagedByView } from '../../functions/service/agent-views.js';
import { standingText } from '../../functions/core/rollouts/staging.js';
import { at } from '../command.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';

/** The API serves at most this many agents per page. */
const PAGE_LIMIT = 1000;

export const agentCommands: CommandSpec[] = [
  {
    words: ['agents'],
    synopsis: '[--selector k=v,...] [--liveness online|stale|disconnected] [--token <name>] [--limit n]',
    summary: 'list agents (all pages unless --limit); --token: those whose last poll used that token',
    options: { selector: { type: 'string' }, liveness: { type: 'string' }, token: { type: 'string' }, limit: { type: 'string' } },
    args: [0, 0],
    async run(ctx) {
      const filters: Pick<AgentListQueryParams, 'selector' | 'liveness' | 'token'> = {
        selector: ctx.option('selector'),
        liveness: ctx.option('liveness') as AgentListQueryParams['liveness'],
        token: ctx.option('token'),
      };
      const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined));
      const limit = ctx.integerOption('limit') ?? Infinity;
      const agents: AgentSummaryView[] = [];
      let cursor: string | undefined;
      do {
        const page = new URLSearchParams(query);
        page.set('limit', String(Math.min(PAGE_LIMIT, limit - agents.length)));
        if (cursor) page.set('cursor', cursor);
        const result = await ctx.api.request<AgentListResult>('GET', `/api/v1/agents?${page}`);
        agents.push(...result.agents);
        cursor = result.nextCursor;
      } while (cursor && agents.length < limit);
      ctx.print({ agents }, () =>
        table(
          ['INSTANCE UID', 'LIVENESS', 'HEALTHY', 'SERVICE', 'LAST SEEN'],
          agents.map((a) => [a.instanceUid, a.liveness, a.healthy === null ? '-' : String(a.healthy), a.attributes['service.name'] ?? '-', a.lastSeenAt]),
        ),
      );
    },
  },
  {
    words: ['agent'],
    synopsis: '<instance-uid>',
    summary: 'show one agent (--json for everything the API returns)',
    args: [1, 1],
    async run(ctx) {
      const agent = await ctx.api.request<AgentDetailView>('GET', at('/api/v1/agents', ctx.arg(0, '<instance-uid>')));
      ctx.print(agent, () => agentText(agent));
    },
  },
];

function agentText(a: AgentDetailView): string {
  const lastError = healthError(a.health);
  const lines = [
    `instance uid    ${a.instanceUid}`,
    `liveness        ${a.liveness} (last seen ${a.lastSeenAt}, first seen ${a.firstSeenAt})`,
    `healthy         ${a.healthy === null ? '-' : a.healthy}${lastError ? ` (${lastError})` : ''}`,
    `sequence        ${a.sequenceNum}`,
    `capabilities    ${a.capabilities.join(', ')}`,
    ...Object.entries(a.attributes).map(([k, v], i) => `${i === 0 ? 'attributes      ' : '                '}${k}=${v}`),
  ];
  if (a.remoteConfig) {
    const rc = a.remoteConfig;
    lines.push(`config          ${rc.desired ? `${rc.desired.config} (via ${rc.desired.via})` : '-'}: ${rc.state}`);
    if (rc.desired?.rollout) lines.push(`config rollout  ${rolloutLine(rc.desired.rollout)}`);
    if (a.remoteConfigStatus?.errorMessage) lines.push(`config error    ${a.remoteConfigStatus.errorMessage}`);
    if (rc.offer?.rollbackMessage) lines.push(`rolled back     ${rc.offer.rollbackMessage}`);
  }
  const desiredPackages = a.packages?.desired;
  if (desiredPackages) {
    for (const [i, [name, version]] of Object.entries(desiredPackages.versions).entries()) {
      lines.push(`${i === 0 ? 'packages        ' : '                '}${name} ${version} (via ${desiredPackages.via}): ${desiredPackages.states[name] ?? '-'}`);
    }
    if (desiredPackages.rollout) lines.push(`package rollout ${rolloutLine(desiredPackages.rollout)}`);
  }
  return lines.join('\n');
}

/** The staged rollout that decided an aspect, and where the agent stands in it. */
function rolloutLine(rollout: StagedByView): string {
  return `${rollout.id}: ${standingText(rollout.side, rollout.state)}`;
}

/** The health report is the agent's ComponentHealth as protobuf JSON; its `lastError` is what people need. */
function healthError(health: AgentDetailView['health']): string | undefined {
  if (health === null || typeof health !== 'object' || Array.isArray(health)) return undefined;
  const lastError = health.lastError;
  return typeof lastError === 'string' && lastError !== '' ? lastError : undefined;
}
