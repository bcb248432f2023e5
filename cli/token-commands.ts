import type { ApiClient } from './api-client.js';
import { CliError } from './api-client.js';
import { table } from './table.js';

/** `opampctl tokens` and `opampctl token create|agents|revoke`. */

interface TokenView {
  name: string;
  createdAt: string;
  fingerprint: string;
  deliverable: boolean;
  agents?: number;
  live?: number;
  replacedBy?: string;
  settings?: string[];
}

type Print = (data: unknown, human: () => string) => void;

export async function tokensCommand(api: ApiClient, print: Print): Promise<void> {
  const { tokens } = await api.request<{ tokens: TokenView[] }>('GET', '/api/v1/tokens');
  print({ tokens }, () => table(
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
  ));
}

export async function tokenCommand(
  api: ApiClient,
  args: string[],
  flags: { deliverable: boolean; force: boolean; replacement: string | undefined },
  print: Print,
): Promise<void> {
  const [sub, name] = args;
  if (!name) throw new CliError(`missing argument: token ${sub ?? 'create|agents|revoke'} <name>`);
  const tokenName = name;
  const at = `/api/v1/tokens/${encodeURIComponent(tokenName)}`;
  if (sub === 'create') {
    const created = await api.request<{ name: string; token: string; deliverable: boolean }>(
      'POST', '/api/v1/tokens', { name: tokenName, ...(flags.deliverable ? { deliverable: true } : {}) });
    print(created, () => [
      `token ${created.name} (shown only now; agents send it as "Authorization: Bearer <token>"):`,
      created.token,
      ...(created.deliverable ? [`deliverable: the server keeps it; settings with "opamp": {"token": "${created.name}"} hand it to agents`] : []),
    ].join('\n'));
  } else if (sub === 'agents') {
    const using = await api.request<{ name: string; agents: string[]; liveAgents?: string[] }>('GET', `${at}/agents`);
    print(using, () => (using.agents.length === 0
      ? `no agent last authenticated with token ${using.name}`
      : using.agents.map((uid) => `${uid}${using.liveAgents?.includes(uid) ? '  live' : ''}`).join('\n')));
  } else if (sub === 'revoke') {
    const query = new URLSearchParams({ ...(flags.force ? { force: 'true' } : {}), ...(flags.replacement ? { replacement: flags.replacement } : {}) });
    const rotating = await api.request<{ replacement: string; agents: string[]; settings: string[] } | undefined>('DELETE', `${at}${query.size > 0 ? `?${query}` : ''}`).catch((error: unknown) => {
      // 409: live agents or settings still use the token; the server says which.
      if (error instanceof CliError && error.message.startsWith('409 ')) {
        throw new CliError(`${error.message} (opampctl token revoke ${tokenName} --replacement <deliverable token> moves them first; opampctl token revoke ${tokenName} --force revokes it anyway)`);
      }
      throw error;
    });
    if (rotating) {
      print({ name: tokenName, status: 'rotating', ...rotating }, () => [
        `token ${tokenName} is being replaced by ${rotating.replacement}: agents that present it are offered ${rotating.replacement}`,
        ...rotating.agents.map((uid) => `still on ${tokenName}: ${uid}`),
        ...rotating.settings.map((s) => `settings ${s} still hand it out: change them to ${rotating.replacement}`),
        `run this again to revoke it once none is left`,
      ].join('\n'));
    } else {
      print({ name: tokenName, status: 'revoked' }, () => `token ${tokenName} revoked`);
    }
  } else {
    throw new CliError('token takes create, agents or revoke');
  }
}
