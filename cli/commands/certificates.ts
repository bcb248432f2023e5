import type { CertificateUploadBody } from '../../functions/http/routes/certificates-api.js';
import type { ExpiringCertificateView } from '../../functions/service/certificate-expiry.js';
import type { CertificateHolders } from '../../functions/service/credential-revocation.js';
import type { CertificateAccepted, CertificateView } from '../../functions/service/fleet-admin.js';
import { at, readText } from '../command.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { table } from '../table.js';

const CERTIFICATES = '/api/v1/certificates';

interface ExpiringList {
  withinDays: number;
  certificates: ExpiringCertificateView[];
}

async function listed(ctx: CommandContext, name: string): Promise<CertificateView | undefined> {
  return (await ctx.api.request<{ certificates: CertificateView[] }>('GET', CERTIFICATES)).certificates.find((c) => c.name === name);
}

export const certificateCommands: CommandSpec[] = [
  {
    words: ['certificates'],
    synopsis: '',
    summary: 'certificates in the bucket',
    args: [0, 0],
    async run(ctx) {
      const { certificates } = await ctx.api.request<{ certificates: CertificateView[] }>('GET', CERTIFICATES);
      ctx.print({ certificates }, () =>
        table(
          ['NAME', 'SUBJECT', 'NOT AFTER', 'FINGERPRINT', 'FILES', 'SETTINGS', 'ERROR'],
          certificates.map((c) => [
            c.name,
            c.subject ?? '-',
            c.notAfter ?? '-',
            c.fingerprint ? c.fingerprint.slice(0, 12) : '-',
            (['cert', 'key', 'ca'] as const)
              .filter((role) => c.files[role])
              .map((role) => `${role}.pem`)
              .join(',') || '-',
            c.settings.join(',') || '-',
            c.error ?? '-',
          ]),
        ),
      );
    },
  },
  {
    words: ['certificate', 'upload'],
    synopsis: '<name> --cert <cert.pem> [--key <key.pem>] [--ca <ca.pem>]',
    summary: 'upload a certificate (replaces its files); settings refer to it by <name>',
    options: { cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' } },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('certificate');
      const certPath = ctx.requiredOption('cert', '<cert.pem>');
      const [keyPath, caPath] = [ctx.option('key'), ctx.option('ca')];
      const material: CertificateUploadBody = {
        cert: await readText(certPath),
        ...(keyPath !== undefined ? { key: await readText(keyPath) } : {}),
        ...(caPath !== undefined ? { ca: await readText(caPath) } : {}),
      };
      const accepted = await ctx.api.request<CertificateAccepted>('PUT', at(CERTIFICATES, name), material);
      await ctx.waitFor(`certificate ${name}`, async () => {
        const found = await listed(ctx, name);
        return found?.fingerprint === accepted.fingerprint && found.files.key === (material.key !== undefined) && found.files.ca === (material.ca !== undefined);
      });
      ctx.print(
        { ...accepted, name, status: ctx.writeStatus },
        () => `certificate ${name} uploaded (${accepted.subject}, valid until ${accepted.notAfter}, sha256 ${accepted.fingerprint.slice(0, 12)})`,
      );
    },
  },
  {
    words: ['certificate', 'delete'],
    synopsis: '<name> [--force]',
    summary: 'remove a certificate (refused while live agents hold it, unless --force)',
    options: { force: { type: 'boolean', default: false } },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('certificate');
      await ctx.api.request('DELETE', `${at(CERTIFICATES, name)}${ctx.flag('force') ? '?force=true' : ''}`);
      await ctx.waitFor(`removal of certificate ${name}`, async () => (await listed(ctx, name)) === undefined);
      ctx.print({ name, status: 'removed' }, () => `certificate ${name} removed`);
    },
  },
  {
    words: ['certificate', 'agents'],
    synopsis: '<name>',
    summary: 'the agents a certificate was offered to, and which of them are live',
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('certificate');
      const holders = await ctx.api.request<CertificateHolders>('GET', `${at(CERTIFICATES, name)}/agents`);
      ctx.print({ name, ...holders }, () =>
        holders.agents.length === 0 ? `no agent holds certificate ${name}` : holders.agents.map((uid) => `${uid}${holders.liveAgents.includes(uid) ? '  live' : ''}`).join('\n'),
      );
    },
  },
  {
    words: ['certificates', 'expiring'],
    synopsis: '[--within-days <n>]',
    summary: "certificates agents hold (issued or offered) that expire within n days (default: the server's warning window, 14), and the agents holding them",
    options: { 'within-days': { type: 'string' } },
    args: [0, 0],
    async run(ctx) {
      const withinDays = ctx.option('within-days');
      const query = withinDays !== undefined ? `?withinDays=${encodeURIComponent(withinDays)}` : '';
      const result = await ctx.api.request<ExpiringList>('GET', `${CERTIFICATES}/expiring${query}`);
      ctx.print(result, () =>
        result.certificates.length === 0
          ? `no certificate held by an agent expires within ${result.withinDays} days`
          : table(
              ['SOURCE', 'NOT AFTER', 'DAYS LEFT', 'FINGERPRINT', 'PARTS', 'AGENTS'],
              result.certificates.map((c) => [
                c.source,
                c.notAfter,
                c.expired ? 'expired' : String(c.daysLeft),
                c.fingerprint.slice(0, 12),
                c.parts.join(','),
                c.holders <= 3 ? c.agents.join(',') : `${c.agents.slice(0, 3).join(',')} +${c.holders - 3}`,
              ]),
            ),
      );
    },
  },
];
