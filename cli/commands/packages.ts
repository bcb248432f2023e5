import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { PackageUploadBody } from '../../functions/http/routes/packages-api.js';
import type { PackageRolloutView, PackageUploadUrls, PackageVersionView } from '../../functions/service/fleet-admin.js';
import { CliError } from '../api-client.js';
import { at, readBytes } from '../command.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { table } from '../table.js';
import { checkPackage } from '../validate.js';

const PACKAGES = '/api/v1/packages';

/** The package version the arguments name, checked before anything is read or sent. */
function packageVersion(ctx: CommandContext, file?: string): { name: string; version: string; path: string } {
  const name = ctx.arg(0, '<name>');
  const version = ctx.arg(1, '<version>');
  checkPackage(name, version, file, ctx.option('signature') !== undefined);
  return { name, version, path: at(PACKAGES, name, version) };
}

export const packageCommands: CommandSpec[] = [
  {
    words: ['packages'],
    synopsis: '',
    summary: 'package versions in the bucket',
    args: [0, 0],
    async run(ctx) {
      const { packages } = await ctx.api.request<{ packages: PackageVersionView[] }>('GET', PACKAGES);
      ctx.print({ packages }, () =>
        table(
          ['PACKAGE', 'VERSION', 'FILE', 'SIZE', 'SIGNED', 'ERROR'],
          packages.map((p) => [p.name, p.version, p.file, String(p.size), p.signed ? 'yes' : 'no', p.error ?? '-']),
        ),
      );
    },
  },
  {
    words: ['package', 'upload'],
    synopsis: '<name> <version> <file> [--signature <file.sig>]',
    summary: 'upload a package version (<name> _agent is the agent itself)',
    options: { signature: { type: 'string' } },
    args: [3, 3],
    async run(ctx) {
      const file = ctx.arg(2, '<file>');
      const { name, version, path } = packageVersion(ctx, file);
      const bytes = await readBytes(file);
      const signaturePath = ctx.option('signature');
      const signature = signaturePath === undefined ? undefined : await readBytes(signaturePath);
      const body: PackageUploadBody = { file: basename(file), signature: signature !== undefined };
      const urls = await ctx.api.request<PackageUploadUrls>('POST', `${path}/upload`, body);
      // The file goes straight to the bucket through a presigned URL: packages can be large.
      if (signature && urls.signature) await putTo(urls.signature, signature);
      await putTo(urls.file, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await ctx.waitFor(`package ${name} ${version}`, async () => {
        const { packages } = await ctx.api.request<{ packages: PackageVersionView[] }>('GET', PACKAGES);
        const found = packages.find((p) => p.name === name && p.version === version);
        return found?.sha256 === sha256 && found.signed === (signature !== undefined);
      });
      ctx.print(
        { name, version, file: basename(file), sha256, signed: signature !== undefined },
        () => `package ${name} ${version} uploaded (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}${signature ? ', signed' : ''})`,
      );
    },
  },
  {
    words: ['package', 'delete'],
    synopsis: '<name> <version>',
    summary: 'remove a package version',
    args: [2, 2],
    async run(ctx) {
      const { name, version, path } = packageVersion(ctx);
      await ctx.api.request('DELETE', path);
      ctx.print({ name, version, status: 'removed' }, () => `package ${name} ${version} removed`);
    },
  },
  {
    words: ['package', 'rollout'],
    synopsis: '<name> <version>',
    summary: "where a package version's rollout stands",
    args: [2, 2],
    async run(ctx) {
      const r = await ctx.api.request<PackageRolloutView>('GET', `${packageVersion(ctx).path}/rollout`);
      ctx.print(r, () => {
        const head =
          `${r.name} ${r.version}\nmatched ${r.matched}  installed ${r.installed}  installing ${r.installing}  failed ${r.failed}  pending ${r.pending}  not-accepted ${r.notAccepted}` +
          (r.matched > 0 && r.installed === r.matched ? '  (complete)' : '');
        return r.agents.length === 0
          ? head
          : `${head}\n\n${table(
              ['INSTANCE UID', 'STATE', 'STATUS', 'ERROR'],
              r.agents.map((a) => [a.instanceUid, a.state, a.status, a.error || '-']),
            )}`;
      });
    },
  },
];

async function putTo(url: string, body: Uint8Array): Promise<void> {
  const response = await fetch(url, { method: 'PUT', body }).catch((error: Error) => {
    throw new CliError(`upload failed: ${error.message}`);
  });
  if (!response.ok) throw new CliError(`upload failed: ${response.status} ${(await response.text()).slice(0, 200)}`);
}
