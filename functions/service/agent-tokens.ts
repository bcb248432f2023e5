import { randomBytes } from 'node:crypto';
import { sha256 } from '../core/canonical-hash.js';
import type { Telemetry } from '../observability/telemetry.js';
import { RejectedRequestError } from '../core/errors.js';
import type { FleetState } from '../core/fleet.js';
import { everyAgent } from '../ports/agent-store.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { AgentTokenRecord, TokenStore } from '../ports/token-store.js';
import { RevalidatingCache } from './revalidating-cache.js';
import { byName } from '../core/compare.js';

const TOKEN_PREFIX = 'opamp_';


function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** The token in `Authorization: Bearer <token>`, if that is what the header holds. */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Checks agent bearer tokens against the stored hashes. The hashes are cached
 * per function instance and revalidated like the fleet state, so a normal poll
 * pays no read for authentication. Any number of tokens can be valid at once,
 * which is what makes rotation possible: issue a new one, move the agents,
 * revoke the old one.
 */
interface TokenSet {
  /** Token name by the token's SHA-256. */
  byHash: Map<string, string>;
  /** Deliverable tokens by name. */
  deliverable: Map<string, string>;
}

export class AgentAuthenticator {
  private readonly cache: RevalidatingCache<TokenSet>;

  constructor(store: TokenStore, now: () => number, revalidateMs: number, telemetry: Telemetry) {
    this.cache = new RevalidatingCache(
      {
        generation: () => store.generation(),
        load: async () => {
          const generation = await store.generation();
          const tokens = await store.list();
          return {
            generation,
            value: {
              byHash: new Map(tokens.map((t) => [t.sha256, t.name])),
              deliverable: new Map(tokens.flatMap((t) => (t.value !== undefined ? [[t.name, t.value] as const] : []))),
            },
          };
        },
      },
      now,
      revalidateMs,
      telemetry,
      'agent tokens',
    );
  }

  /**
   * A first look at the header, without reading the store: `accepted` or
   * `refused` when the cached token set is fresh; `revalidate` when it is due,
   * in which case the poll reads the token generation in the same call as the
   * agent's record and then asks `verify`, before anything is decided or
   * stored. A token created a moment ago is thus accepted once the instance
   * revalidates, within the revalidation interval.
   */
  check(authorization: string | undefined): { verdict: 'accepted'; tokenName: string } | { verdict: 'refused' | 'revalidate' } {
    const token = bearerToken(authorization);
    if (!token) return { verdict: 'refused' };
    const tokens = this.cache.peek();
    if (!tokens || this.cache.due()) return { verdict: 'revalidate' };
    const tokenName = tokens.byHash.get(hashToken(token));
    return tokenName === undefined ? { verdict: 'refused' } : { verdict: 'accepted', tokenName };
  }

  /** The token's name against the revalidated set (reads the store only if nobody revalidated it). */
  async verify(authorization: string | undefined): Promise<string | undefined> {
    const token = bearerToken(authorization);
    return token ? (await this.cache.current()).byHash.get(hashToken(token)) : undefined;
  }

  /** A deliverable token's value, from the cached set (rotation offers hand it to agents). */
  deliverableToken(name: string): string | undefined {
    return this.cache.peek()?.deliverable.get(name);
  }

  /** The token cache, for the poll path to revalidate with the generation it reads. */
  get revalidation(): { due(): boolean; accept(generation: string): Promise<void> } {
    return this.cache;
  }
}

export interface TokenView {
  name: string;
  createdAt: string;
  /** The first characters of the hash, to tell tokens apart without revealing anything. */
  fingerprint: string;
  /** Whether the server keeps the token to hand it to agents (rotation). */
  deliverable: boolean;
  /** How many agents last authenticated with it (when usage is known). */
  agents?: number;
  /** Settings documents that hand it to agents. */
  settings?: string[];
}

export class TokenInUseError extends RejectedRequestError {
  override readonly name = 'TokenInUseError';

  constructor(message: string) {
    super('conflict', 'token-in-use', message);
  }
}

/** Where tokens are used: agents' records (by the token they last presented) and settings documents. */
export interface TokenUsageSources {
  agents: AgentStore;
  fleet: { current(): Promise<FleetState> };
}

/** Creating, listing and revoking tokens (the fleet API). */
export class TokenAdmin {
  constructor(
    private readonly store: TokenStore,
    private readonly now: () => number,
    private readonly usage?: TokenUsageSources,
  ) {}

  /**
   * Makes a new token, returned once. Only its hash is stored, unless it is
   * deliverable: then the server keeps it, to hand it to agents in
   * connection settings offers (a settings document's `opamp.token`).
   */
  async create(name: string, options: { deliverable?: boolean } = {}): Promise<{ name: string; token: string; deliverable: boolean }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const deliverable = options.deliverable ?? false;
    const record: AgentTokenRecord = { name, sha256: hashToken(token), createdAt: this.now(), ...(deliverable ? { value: token } : {}) };
    await this.store.create(record);
    return { name, token, deliverable };
  }

  async list(): Promise<TokenView[]> {
    const [tokens, usage] = await Promise.all([this.store.list(), this.usage ? this.tokenUsage() : undefined]);
    return tokens
      .map((t) => ({
        name: t.name,
        createdAt: new Date(t.createdAt).toISOString(),
        fingerprint: t.sha256.slice(0, 12),
        deliverable: t.value !== undefined,
        ...(usage ? { agents: usage.agents.get(t.name)?.length ?? 0, settings: usage.settings.get(t.name) ?? [] } : {}),
      }))
      .sort(byName);
  }

  /** The agents that last authenticated with the token (instance uids). */
  async agentsUsing(name: string): Promise<string[]> {
    if (!(await this.store.list()).some((t) => t.name === name)) throw new RejectedRequestError('not-found', 'token-not-found', `no token named ${name}`);
    return this.usage ? ((await this.tokenUsage()).agents.get(name) ?? []) : [];
  }

  /**
   * Revokes a token. Refused while agents still use it or a settings document
   * hands it out, unless forced: revoking a token in use locks those agents out.
   */
  async revoke(name: string, options: { force?: boolean } = {}): Promise<boolean> {
    if (!options.force && this.usage) {
      const usage = await this.tokenUsage();
      const agents = usage.agents.get(name) ?? [];
      const settings = usage.settings.get(name) ?? [];
      if (agents.length > 0 || settings.length > 0) {
        const reasons = [
          ...(agents.length > 0 ? [`${agents.length} agent(s) last authenticated with it (e.g. ${agents.slice(0, 3).join(', ')})`] : []),
          ...(settings.length > 0 ? [`settings ${settings.join(', ')} hand it to agents`] : []),
        ];
        throw new TokenInUseError(`token ${name} is in use: ${reasons.join('; ')}. Move them to another token first, or force the revocation`);
      }
    }
    return this.store.revoke(name);
  }

  private async tokenUsage(): Promise<{ agents: Map<string, string[]>; settings: Map<string, string[]> }> {
    const { agents: store, fleet } = this.usage!;
    const agents = new Map<string, string[]>();
    for await (const record of everyAgent(store, (r) => r.tokenName !== undefined, 1000)) {
      agents.set(record.tokenName!, [...(agents.get(record.tokenName!) ?? []), record.instanceUid]);
    }
    const settings = new Map<string, string[]>();
    for (const [name, spec] of (await fleet.current()).settings) {
      const token = spec.opamp?.token;
      if (token !== undefined) settings.set(token, [...(settings.get(token) ?? []), name]);
    }
    return { agents, settings };
  }
}
