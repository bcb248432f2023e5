import { heldCertificates } from '../core/certificate-expiry.js';
import { deriveLiveness } from '../core/liveness.js';
import type { LivenessPolicy } from '../core/liveness.js';
import { NO_PRESENCE } from '../core/presence.js';
import type { PresenceView } from '../core/presence.js';
import type { FleetState } from '../core/fleet.js';
import { everyAgent } from '../ports/agent-store.js';
import type { AgentStore } from '../ports/agent-store.js';

/**
 * What decides whether an agent is still there: the liveness policy, the
 * clock, and the presence batches (an agent's record is written only when its
 * state changes, so recent polls show there).
 */
export interface LivenessSource {
  policy: LivenessPolicy;
  now: () => number;
  presence?: { view(): Promise<PresenceView> } | undefined;
}

/** Where credentials are used: agents' records (by the token they last presented) and settings documents. */
export interface TokenUsageSources {
  agents: AgentStore;
  fleet: { current(): Promise<FleetState> };
  /** Decides which agents count as still there; without it every agent with a record counts. */
  liveness?: LivenessSource | undefined;
}

/** Who holds each token: every agent that last authenticated with it, those of them still live, and the settings that hand it out. */
export interface TokenUsage {
  agents: Map<string, string[]>;
  /** Agents seen within their liveness window (online): only these keep a token from being revoked. */
  live: Map<string, string[]>;
  settings: Map<string, string[]>;
}

/**
 * Reads who holds which token. An agent that stopped polling long ago (most
 * HTTP clients leave without a goodbye) no longer holds up a revocation: it
 * is counted, but not as live.
 */
export async function tokenUsage(sources: TokenUsageSources): Promise<TokenUsage> {
  const agents = new Map<string, string[]>();
  const live = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, value: string) => map.set(key, [...(map.get(key) ?? []), value]);
  const now = sources.liveness?.now();
  const presence = (await sources.liveness?.presence?.view()) ?? NO_PRESENCE;
  for await (const record of everyAgent(sources.agents, (r) => r.tokenName !== undefined, 1000)) {
    add(agents, record.tokenName!, record.instanceUid);
    const isLive = !sources.liveness || deriveLiveness(record, now!, sources.liveness.policy, presence.lookup(record.instanceUid)) === 'online';
    if (isLive) add(live, record.tokenName!, record.instanceUid);
  }
  const settings = new Map<string, string[]>();
  for (const [name, spec] of (await sources.fleet.current()).settings) {
    const token = spec.opamp?.token;
    if (token !== undefined) add(settings, token, name);
  }
  return { agents, live, settings };
}

/** What a revocation request came to. */
export type RevocationOutcome =
  | { status: 'revoked' }
  /** Live agents (or settings) still use the token: they are being moved to the replacement first. */
  | { status: 'rotating'; replacement: string; agents: string[]; settings: string[] };

/** The agents holding a certificate (by its reference, or `issued`), and those of them still live. */
export interface CertificateHolders {
  agents: string[];
  liveAgents: string[];
  /** The fingerprints they hold under that reference (more than one while a renewed certificate is rolling out). */
  fingerprints: string[];
}

/** Who holds the certificates a reference names: agents whose last settings offer carried it. */
export async function certificateHolders(agents: AgentStore, source: string, liveness: LivenessSource): Promise<CertificateHolders> {
  const holders: CertificateHolders = { agents: [], liveAgents: [], fingerprints: [] };
  const now = liveness.now();
  const presence = (await liveness.presence?.view()) ?? NO_PRESENCE;
  for await (const record of everyAgent(agents, (r) => heldCertificates(r).some((c) => c.source === source), 1000)) {
    holders.agents.push(record.instanceUid);
    if (deriveLiveness(record, now, liveness.policy, presence.lookup(record.instanceUid)) === 'online') holders.liveAgents.push(record.instanceUid);
    for (const held of heldCertificates(record)) {
      if (held.source === source && !holders.fingerprints.includes(held.fingerprint)) holders.fingerprints.push(held.fingerprint);
    }
  }
  return holders;
}
