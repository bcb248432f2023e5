/** A secret's current value and the version it is (Secrets Manager's VersionId). */
export interface SecretVersion {
  value: string;
  versionId: string;
}

/** Reads secrets (Secrets Manager): certificate material and credentials that settings name. */
export interface SecretReader {
  /** The secret's current string value; throws when it cannot be read. */
  getSecretString(secretId: string): Promise<string>;
  /** The secret's current (AWSCURRENT) value with its version; throws when it cannot be read. */
  getSecret(secretId: string): Promise<SecretVersion>;
}
