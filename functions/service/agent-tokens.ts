import { randomBytes } from 'node:crypto';
import { sha256 } from '../core/canonical-hash.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { AgentTokenRecord, TokenStore } from '../ports/token-store.js';
import { RevalidatingCache } from './revalidating-cache.js';

export const TOKEN_PREFIX = 'opamp_';


export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** The token in `Authorization: Bearer <token>`, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
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
export class AgentAuthenticator {
  private readonly cache: RevalidatingCache<Map<string, string>>;

  constructor(store: TokenStore, now: () => number, revalidateMs: number, telemetry: Telemetry) {
    this.cache = new RevalidatingCache(
      {
        generation: () => store.generation(),
        load: async () => {
          const generation = await store.generation();
          const tokens = await store.list();
          return { generation, value: new Map(tokens.map((t) => [t.sha256, t.name])) };
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
    const tokenName = tokens.get(this.hashOf(token));
    return tokenName === undefined ? { verdict: 'refused' } : { verdict: 'accepted', tokenName };
  }

  /** The token's name against the revalidated set (reads the store only if nobody revalidated it). */
  async verify(authorization: string | undefined): Promise<string | undefined> {
    const token = bearerToken(authorization);
    return token ? (await this.cache.current()).get(this.hashOf(token)) : undefined;
  }

  /** Hashes of recently seen tokens: each poll would otherwise hash its token again. */
  private readonly hashes = new Map<string, string>();

  private hashOf(token: string): string {
    let hash = this.hashes.get(token);
    if (hash === undefined) {
      if (this.hashes.size >= 1000) this.hashes.clear();
      hash = hashToken(token);
      this.hashes.set(token, hash);
    }
    return hash;
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
}

/** Creating, listing and revoking tokens (the fleet API). */
export class TokenAdmin {
  constructor(
    private readonly store: TokenStore,
    private readonly now: () => number,
  ) {}

  /** Makes a new token; the token itself is returned once and never stored. */
  async create(name: string): Promise<{ name: string; token: string }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: AgentTokenRecord = { name, sha256: hashToken(token), createdAt: this.now() };
    await this.store.create(record);
    return { name, token };
  }

  async list(): Promise<TokenView[]> {
    return (await this.store.list())
      .map((t) => ({ name: t.name, createdAt: new Date(t.createdAt).toISOString(), fingerprint: t.sha256.slice(0, 12) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async revoke(name: string): Promise<boolean> {
    return this.store.revoke(name);
  }
}
