/**
 * An agent credential as stored: its name and the SHA-256 of the token. The
 * token itself is kept only for a deliverable token: one the server hands to
 * agents in connection settings offers (credential rotation), which it can
 * only do if it has it.
 */
export interface AgentTokenRecord {
  name: string;
  /** Hex SHA-256 of the token. */
  sha256: string;
  createdAt: number;
  /** The token, for a deliverable token only. */
  value?: string | undefined;
  /**
   * Set while the token is being revoked: agents that present it are offered
   * this (deliverable) token instead, until none of them uses it any more.
   */
  replacedBy?: string | undefined;
}

/** Agent bearer tokens (hashes only). */
export interface TokenStore {
  /** Changes whenever a token is created or revoked. */
  generation(): Promise<string>;
  list(): Promise<AgentTokenRecord[]>;
  /** Throws TokenExistsError when a token of that name exists. */
  create(token: AgentTokenRecord): Promise<void>;
  /** Removes the token; false when there was none of that name. */
  revoke(name: string): Promise<boolean>;
  /** Marks the token as being replaced by another; false when there was none of that name. */
  replace(name: string, replacement: string): Promise<boolean>;
}
