import type { ConfigView, VersionDetailView, VersionListView, VersionSummaryView } from '../../functions/service/fleet-admin.js';
import { at } from '../command.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { table } from '../table.js';

const CONFIGS = '/api/v1/configs';
const PAGE_LIMIT = 100;

/** `+added -removed ~changed`, or `-` when nothing changed. */
function changesText(v: Pick<VersionSummaryView, 'changes'>): string {
  const { added, removed, changed } = v.changes;
  return [...added.map((f) => `+${f}`), ...removed.map((f) => `-${f}`), ...changed.map((f) => `~${f}`)].join(' ') || '-';
}

/** A hash as typed: base64url, base64 or hex; sent URL-encoded (standard base64 holds '/' and '+'). */
function hashArg(ctx: CommandContext, index: number): string {
  const hash = ctx.arg(index, '<hash>');
  if (!/^[A-Za-z0-9+/_=-]{40,64}$/.test(hash)) throw ctx.usageError(`"${hash}" is not a config hash (base64url as "config history" shows it, base64 or hex)`);
  return hash;
}

export const configHistoryCommands: CommandSpec[] = [
  {
    words: ['config', 'history'],
    synopsis: '<name> [--limit n]',
    summary: "a configuration's recorded versions, newest first: hash, when, by whom, what changed (all unless --limit)",
    options: { limit: { type: 'string' } },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const limit = ctx.integerOption('limit') ?? Infinity;
      if (limit < 1) throw ctx.usageError('--limit takes a positive integer');
      const versions: VersionSummaryView[] = [];
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({ limit: String(Math.min(PAGE_LIMIT, limit - versions.length)), ...(cursor ? { cursor } : {}) });
        const page = await ctx.api.request<VersionListView>('GET', `${at(CONFIGS, name)}/versions?${query}`);
        versions.push(...page.versions);
        cursor = page.nextCursor;
      } while (cursor && versions.length < limit);
      ctx.print({ name, versions }, () =>
        table(
          ['HASH', 'RECORDED', 'BY', 'FILES', 'CHANGES'],
          versions.map((v) => [v.hashUrl, v.recordedAt, v.principal ?? '-', String(v.files.length), changesText(v)]),
        ),
      );
    },
  },
  {
    words: ['config', 'diff'],
    synopsis: '<name> <hash> [--against <hash>]',
    summary: 'a unified diff of a recorded version against the one before it, or against --against',
    options: { against: { type: 'string' } },
    args: [2, 2],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const hash = hashArg(ctx, 1);
      const against = ctx.option('against');
      const query = against !== undefined ? `?${new URLSearchParams({ against })}` : '';
      const version = await ctx.api.request<VersionDetailView>('GET', `${at(CONFIGS, name, 'versions', hash)}${query}`);
      ctx.print(version, () => {
        const head = `${name} ${version.hashUrl} (${version.recordedAt}) against ${version.against ? version.against.hashUrl : 'nothing (the first version)'}`;
        return version.diff ? `${head}\n${version.diff.replace(/\n$/, '')}` : `${head}\nno differences`;
      });
    },
  },
  {
    words: ['config', 'restore'],
    synopsis: '<name> <hash>',
    summary: 'write a recorded version back as configuration <name> (its files replace the current ones); recorded as the newest version',
    args: [2, 2],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const hash = hashArg(ctx, 1);
      const accepted = await ctx.api.request<{ name: string; hash: string }>('POST', `${at(CONFIGS, name, 'versions', hash)}/restore`);
      await ctx.waitFor(`configuration ${name}`, async () => (await ctx.api.request<ConfigView>('GET', at(CONFIGS, name)).catch(() => undefined))?.hash === accepted.hash);
      ctx.print({ name, hash: accepted.hash, status: ctx.writeStatus }, () => `configuration ${name} restored to ${Buffer.from(accepted.hash, 'hex').toString('base64url')}`);
    },
  },
];
