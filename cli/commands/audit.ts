import { AUDIT_SOURCES, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, parseTimeBound, TIME_BOUND_TEXT } from '../../functions/core/audit.js';
import type { AuditEntryView, AuditPageView, AuditQueryParams } from '../../functions/http/routes/audit-api.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';

const FILTERS = ['since', 'until', 'principal', 'action', 'target', 'source'] as const;

export const auditCommands: CommandSpec[] = [
  {
    words: ['audit'],
    synopsis: '[--since 1h|<ISO time>] [--until ...] [--principal <who>] [--action <prefix>] [--target <prefix>] [--source api|bucket|rollout] [--limit n]',
    summary: `changes to the fleet through the API, the bucket or rollouts, newest first: who, what, when and the result (--limit: ${DEFAULT_AUDIT_LIMIT} by default)`,
    options: Object.fromEntries([...FILTERS, 'limit'].map((name) => [name, { type: 'string' }])),
    args: [0, 0],
    async run(ctx) {
      const filters: Pick<AuditQueryParams, (typeof FILTERS)[number]> = Object.fromEntries(FILTERS.flatMap((name) => (ctx.option(name) !== undefined ? [[name, ctx.option(name)]] : [])));
      for (const name of ['since', 'until'] as const) {
        const text = filters[name];
        if (text !== undefined && parseTimeBound(text, Date.now()) === undefined) throw ctx.usageError(`--${name} takes ${TIME_BOUND_TEXT}`);
      }
      if (filters.source !== undefined && !(AUDIT_SOURCES as readonly string[]).includes(filters.source)) throw ctx.usageError(`--source takes ${AUDIT_SOURCES.join(', ')}`);
      const limit = ctx.integerOption('limit') ?? DEFAULT_AUDIT_LIMIT;
      if (limit < 1) throw ctx.usageError('--limit takes a whole number of at least 1');
      const entries: AuditEntryView[] = [];
      let cursor: string | undefined;
      do {
        const page = new URLSearchParams(filters as Record<string, string>);
        page.set('limit', String(Math.min(MAX_AUDIT_LIMIT, limit - entries.length)));
        if (cursor) page.set('cursor', cursor);
        const result = await ctx.api.request<AuditPageView>('GET', `/api/v1/audit?${page}`);
        entries.push(...result.entries);
        cursor = result.nextCursor;
      } while (cursor && entries.length < limit);
      ctx.print({ entries }, () =>
        table(
          ['AT', 'PRINCIPAL', 'SOURCE', 'ACTION', 'TARGET', 'RESULT', 'MESSAGE'],
          entries.map((e) => [e.at, e.principal, e.source, e.action, e.target, e.status !== undefined ? `${e.result} (${e.status})` : e.result, e.message ?? '']),
        ),
      );
    },
  },
];
