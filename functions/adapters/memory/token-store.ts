import type { AgentTokenRecord, TokenStore } from '../../ports/token-store.js';
import { TokenExistsError } from '../../ports/token-store.js';

export class MemoryTokenStore implements TokenStore {
  private counter = 0;
  private readonly tokens = new Map<string, AgentTokenRecord>();

  async generation(): Promise<string> {
    return String(this.counter);
  }

  async list(): Promise<AgentTokenRecord[]> {
    return [...this.tokens.values()].map((t) => ({ ...t }));
  }

  async create(token: AgentTokenRecord): Promise<void> {
    if (this.tokens.has(token.name)) throw new TokenExistsError(`a token named ${token.name} exists`);
    this.tokens.set(token.name, { ...token });
    this.counter++;
  }

  async replace(name: string, replacement: string): Promise<boolean> {
    const token = this.tokens.get(name);
    if (!token) return false;
    token.replacedBy = replacement;
    this.counter++;
    return true;
  }

  async revoke(name: string): Promise<boolean> {
    const had = this.tokens.delete(name);
    if (had) this.counter++;
    return had;
  }
}
