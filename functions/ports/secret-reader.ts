/** Reads secrets (Secrets Manager), for certificate material kept there. */
export interface SecretReader {
  /** The secret's current string value; throws when it cannot be read. */
  getSecretString(secretId: string): Promise<string>;
}
