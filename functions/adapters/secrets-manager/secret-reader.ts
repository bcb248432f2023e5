import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SecretReader, SecretVersion } from '../../ports/secret-reader.js';
import { enforceDeadlines } from '../deadlines.js';

/**
 * Secrets Manager, loaded on first use: only deployments that keep
 * certificates or credentials there ever load the SDK module (in Lambda it
 * comes from the runtime, not the bundle).
 */
export class SecretsManagerReader implements SecretReader {
  private client: Promise<{ client: SecretsManagerClient; module: typeof import('@aws-sdk/client-secrets-manager') }> | undefined;

  constructor(private readonly settings: SecretsManagerClientConfig) {}

  async getSecretString(secretId: string): Promise<string> {
    return (await this.getSecret(secretId)).value;
  }

  async getSecret(secretId: string): Promise<SecretVersion> {
    const { client, module } = await (this.client ??= import('@aws-sdk/client-secrets-manager').then((m) => ({
      client: enforceDeadlines(new m.SecretsManagerClient(this.settings)),
      module: m,
    })));
    const out = await client.send(new module.GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
    if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value (binary secrets are not read)`);
    return { value: out.SecretString, versionId: out.VersionId ?? '' };
  }
}
