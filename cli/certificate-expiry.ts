import type { ApiClient } from './api-client.js';
import { table } from './table.js';

interface ExpiringCertificate {
  source: string;
  fingerprint: string;
  notAfter: string;
  expired: boolean;
  daysLeft: number;
  parts: string[];
  holders: number;
  agents: string[];
}

/** `opampctl certificates expiring [--within-days N]`: certificates agents hold that expire soon, and who holds them. */
export async function expiringCommand(
  api: ApiClient,
  withinDays: string | undefined,
  print: (data: unknown, human: () => string) => void,
): Promise<void> {
  const query = withinDays !== undefined ? `?withinDays=${encodeURIComponent(withinDays)}` : '';
  const result = await api.request<{ withinDays: number; certificates: ExpiringCertificate[] }>('GET', `/api/v1/certificates/expiring${query}`);
  print(result, () => result.certificates.length === 0
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
    ));
}
