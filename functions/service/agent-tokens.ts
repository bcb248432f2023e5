import { randomBytes } from 'node:crypto';
import { sha256 } from '../core/canonical-hash.js';
import type { Telemetry } from '../observability/telemetry.js';
import { RejectedRequestError } from '../core/errors.js';
import { tokenUsage } from './credential-revocation.js';
import type { RevocationOutcome, TokenUsage, TokenUsageSources } from './credential-revocation.js';
import type { AgentTokenRecord, TokenStore } from '../ports/token-store.js';
import { RevalidatingCache } from './revalidating-cache.js';
import { byName } from '../core/compare.js';

const TOKEN_PREFIX = 'opamp_';
/** How many live agents the token list names per token (a fleet-wide token is held by thousands). */
const LISTED_AGENTS = 100;

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
  /** Tokens being revoked, by name, with the token their agents are moved to. */
  replacedBy: Map<string, string>;
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
              replacedBy: new Map(tokens.flatMap((t) => (t.replacedBy !== undefined ? [[t.name, t.replacedBy] as const] : []))),
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

  /** The token the agents of a token being revoked are moved to (its name), if it is being revoked. */
  replacementFor(name: string): string | undefined {
    return this.cache.peek()?.replacedBy.get(name);
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
  /** How many of them are live (seen within their liveness window). */
  live?: number;
  /** The live ones' instance uids, the first LISTED_AGENTS of them (GET /tokens/{name}/agents has all). */
  liveAgents?: string[];
  /** While it is being revoked: the token its agents are moved to. */
  replacedBy?: string;
  /** Settings documents that hand it to agents. */
  settings?: string[];
}

/** A new token: the only time its value is shown. */
export interface CreatedToken {
  name: string;
  token: string;
  deliverable: boolean;
}

export class TokenInUseError extends RejectedRequestError {
  override readonly name = 'TokenInUseError';

  constructor(message: string) {
    super('conflict', 'token-in-use', message);
  }
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
  async create(name: string, options: { deliverable?: boolean } = {}): Promise<CreatedToken> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const deliverable = options.deliverable ?? false;
    const record: AgentTokenRecord = { name, sha256: hashToken(token), createdAt: this.now(), ...(deliverable ? { value: token } : {}) };
    await this.store.create(record);
    return { name, token, deliverable };
  }

  async list(): Promise<TokenView[]> {
    const [tokens, usage] = await Promise.all([this.store.list(), this.usage ? tokenUsage(this.usage) : undefined]);
    return tokens
      .map((t) => ({
        name: t.name,
        createdAt: new Date(t.createdAt).toISOString(),
        fingerprint: t.sha256.slice(0, 12),
        deliverable: t.value !== undefined,
        ...(t.replacedBy !== undefined ? { replacedBy: t.replacedBy } : {}),
        ...(usage
          ? {
              agents: usage.agents.get(t.name)?.length ?? 0,
              live: usage.live.get(t.name)?.length ?? 0,
              liveAgents: (usage.live.get(t.name) ?? []).slice(0, LISTED_AGENTS),
              settings: usage.settings.get(t.name) ?? [],
            }
          : {}),
      }))
      .sort(byName);
  }

  /** The agents that last authenticated with the token (instance uids), and those of them still live. */
  async agentsUsing(name: string): Promise<{ agents: string[]; liveAgents: string[] }> {
    if (!(await this.store.list()).some((t) => t.name === name)) throw new RejectedRequestError('not-found', 'token-not-found', `no token named ${name}`);
    if (!this.usage) return { agents: [], liveAgents: [] };
    const usage = await tokenUsage(this.usage);
    return { agents: usage.agents.get(name) ?? [], liveAgents: usage.live.get(name) ?? [] };
  }

  /**
   * Revokes a token; undefined when there is none of that name. While live
   * agents still use it or a settings document hands it out, it is not
   * revoked: with a replacement (a deliverable token), its agents are first
   * offered the replacement and the token is revoked by a later call once
   * none of them uses it any more (`rotating`); without one, the request is
   * refused. Forcing revokes it at once, locking out the agents that use it.
   */
  async revoke(name: string, options: { force?: boolean; replacement?: string } = {}): Promise<RevocationOutcome | undefined> {
    const tokens = await this.store.list();
    const token = tokens.find((t) => t.name === name);
    if (!token) return undefined;
    const replacement = options.replacement ?? token.replacedBy;
    if (options.replacement !== undefined) checkReplacement(name, options.replacement, tokens);
    if (!options.force && this.usage) {
      const usage = await tokenUsage(this.usage);
      const agents = usage.live.get(name) ?? [];
      const settings = usage.settings.get(name) ?? [];
      if (agents.length > 0 || settings.length > 0) {
        if (replacement === undefined) throw new TokenInUseError(inUseMessage(name, agents, settings, usage));
        if (token.replacedBy !== replacement) await this.store.replace(name, replacement);
        return { status: 'rotating', replacement, agents, settings };
      }
    }
    return (await this.store.revoke(name)) ? { status: 'revoked' } : undefined;
  }
}

function checkReplacement(name: string, replacement: string, tokens: readonly AgentTokenRecord[]): void {
  const target = tokens.find((t) => t.name === replacement);
  if (replacement === name) throw new RejectedRequestError('invalid', 'invalid-replacement', 'a token cannot replace itself');
  if (!target) throw new RejectedRequestError('invalid', 'invalid-replacement', `no token named ${replacement} to move the agents to`);
  if (target.value === undefined) {
    throw new RejectedRequestError('invalid', 'invalid-replacement', `token ${replacement} is not deliverable, so the server cannot hand it to agents; create one with deliverable: true`);
  }
}

function inUseMessage(name: string, agents: string[], settings: string[], usage: TokenUsage): string {
  const departed = (usage.agents.get(name)?.length ?? 0) - agents.length;
  const reasons = [
    ...(agents.length > 0 ? [`${agents.length} live agent(s) last authenticated with it (e.g. ${agents.slice(0, 3).join(', ')})`] : []),
    ...(settings.length > 0 ? [`settings ${settings.join(', ')} hand it to agents`] : []),
  ];
  const note = departed > 0 ? ` (${departed} agent(s) not seen within their liveness window do not count)` : '';
  return `token ${name} is in use: ${reasons.join('; ')}${note}. Name a deliverable replacement to move them first, or force the revocation`;
}
