import { DAY_MS, expiringWithin } from '../core/certificate-expiry.js';
import { everyAgent } from '../ports/agent-store.js';
import type { AgentStore } from '../ports/agent-store.js';

/** One certificate that expires within the window, with the agents holding it. */
export interface ExpiringCertificateView {
  /** A certificate reference, or `issued` for one the server signed for an agent. */
  source: string;
  fingerprint: string;
  notAfter: string;
  expired: boolean;
  /** Days left, rounded down (negative once expired). */
  daysLeft: number;
  /** The settings parts that carry it. */
  parts: string[];
  /** How many agents hold it. */
  holders: number;
  /** Instance uids of the agents holding it, the first LISTED_AGENTS of them. */
  agents: string[];
}

/** How many holders a listing names per certificate (a fleet-wide certificate is held by thousands). */
const LISTED_AGENTS = 100;

/**
 * Certificates agents hold (issued by the server, or offered in connection
 * settings) that expire within the window, soonest first. Reads every agent
 * record: it is meant for operators and scheduled checks, not for every poll.
 */
export async function expiringCertificates(agents: AgentStore, now: number, windowMs: number): Promise<ExpiringCertificateView[]> {
  const found = new Map<string, { source: string; fingerprint: string; notAfter: number; parts: Set<string>; agents: string[] }>();
  for await (const record of everyAgent(agents, (r) => r.issuedCertificate !== undefined || r.heldCertificates !== undefined, 1000)) {
    for (const held of expiringWithin(record, now, windowMs)) {
      const key = `${held.source}\n${held.fingerprint}`;
      const entry = found.get(key) ?? { source: held.source, fingerprint: held.fingerprint, notAfter: held.notAfter, parts: new Set<string>(), agents: [] };
      entry.parts.add(held.part);
      if (!entry.agents.includes(record.instanceUid)) entry.agents.push(record.instanceUid);
      found.set(key, entry);
    }
  }
  return [...found.values()]
    .sort((a, b) => a.notAfter - b.notAfter || (a.fingerprint < b.fingerprint ? -1 : 1))
    .map((e) => ({
      source: e.source,
      fingerprint: e.fingerprint,
      notAfter: new Date(e.notAfter).toISOString(),
      expired: e.notAfter <= now,
      daysLeft: Math.floor((e.notAfter - now) / DAY_MS),
      parts: [...e.parts].sort(),
      holders: e.agents.length,
      agents: e.agents.sort().slice(0, LISTED_AGENTS),
    }));
}
