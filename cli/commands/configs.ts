import type { ConfigUploadBody } from '../../functions/http/routes/configs-api.js';
import type { ConfigView, RolloutView } from '../../functions/service/fleet-admin.js';
import { at, readBytes } from '../command.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';
import { checkConfigFiles, configFileSpec } from '../validate.js';

const CONFIGS = '/api/v1/configs';

export const configCommands: CommandSpec[] = [
  {
    words: ['configs'],
    synopsis: '',
    summary: 'list configurations with hash, file count and errors',
    args: [0, 0],
    async run(ctx) {
      const { configs } = await ctx.api.request<{ configs: ConfigView[] }>('GET', CONFIGS);
      ctx.print({ configs }, () =>
        table(
          ['NAME', 'HASH', 'FILES', 'ERRORS'],
          configs.map((c) => [c.name, c.hash ? c.hash.slice(0, 12) : '(not offered)', String(c.files.length), c.errors.join('; ') || '-']),
        ),
      );
    },
  },
  {
    words: ['config', 'show'],
    synopsis: '<name>',
    summary: "one configuration's files",
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const config = await ctx.api.request<ConfigView>('GET', at(CONFIGS, name));
      ctx.print(config, () =>
        [
          `${config.name}  hash ${config.hash ?? '(not offered)'}`,
          table(
            ['FILE', 'SIZE', 'CONTENT TYPE', 'ERROR'],
            config.files.map((f) => [f.name, String(f.size), f.contentType, f.error ?? '-']),
          ),
        ].join('\n'),
      );
    },
  },
  {
    words: ['config', 'upload'],
    synopsis: '<name> <file>... [--content-type <type>]',
    summary: 'upload files as configuration <name>, replacing its files; a file given as path=name gets that name',
    options: { 'content-type': { type: 'string' } },
    args: [2, Infinity],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const specs = ctx.args.slice(1);
      checkConfigFiles(name, specs);
      const contentType = ctx.option('content-type');
      const files: ConfigUploadBody['files'] = {};
      for (const spec of specs) {
        const { path, fileName } = configFileSpec(spec);
        files[fileName] = { contentBase64: (await readBytes(path)).toString('base64'), ...(contentType ? { contentType } : {}) };
      }
      const body: ConfigUploadBody = { files };
      const accepted = await ctx.api.request<{ name: string; hash: string }>('PUT', at(CONFIGS, name), body);
      await ctx.waitFor(`configuration ${name}`, async () => (await ctx.api.request<ConfigView>('GET', at(CONFIGS, name)).catch(() => undefined))?.hash === accepted.hash);
      ctx.print(
        { name, hash: accepted.hash, files: Object.keys(files), status: ctx.writeStatus },
        () => `configuration ${name} uploaded (${Object.keys(files).length} file(s), hash ${accepted.hash.slice(0, 12)})`,
      );
    },
  },
  {
    words: ['config', 'delete'],
    synopsis: '<name>',
    summary: 'remove a configuration',
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      await ctx.remove(at(CONFIGS, name), `configuration ${name}`);
    },
  },
  {
    words: ['rollout'],
    synopsis: '<config>',
    summary: "where a configuration's rollout stands",
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('configuration');
      const rollout = await ctx.api.request<RolloutView>('GET', `${at(CONFIGS, name)}/rollout`);
      ctx.print(rollout, () => rolloutText(rollout));
    },
  },
];

function rolloutText(r: RolloutView): string {
  const head =
    `${r.config}  hash ${r.hash ?? '(not offered)'}\n` +
    `matched ${r.matched}  applied ${r.applied}  applying ${r.applying}  failed ${r.failed}  pending ${r.pending}  not-accepted ${r.notAccepted}` +
    (r.matched > 0 && r.applied === r.matched ? '  (complete)' : '');
  if (r.agents.length === 0) return head;
  return `${head}\n\n${table(
    ['INSTANCE UID', 'STATE', 'ERROR'],
    r.agents.map((a) => [a.instanceUid, a.state, a.errorMessage || '-']),
  )}`;
}
