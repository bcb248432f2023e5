import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredVersion {
  versionId: string;
  value: string;
  stages: string[];
}

/**
 * Secrets Manager has no emulator among this project's dependencies, so tests
 * serve its GetSecretValue operation (AWS JSON 1.1, the wire protocol the SDK
 * speaks) from this small in-process server: versions with their staging
 * labels (AWSCURRENT, AWSPREVIOUS), rotation, lookups by VersionId or
 * VersionStage, and injected failures.
 */
export class SecretsManagerEndpoint {
  private readonly versions = new Map<string, StoredVersion[]>();
  readonly requests: Array<{ target: string; secretId: string; versionId?: string; versionStage?: string }> = [];
  /** Answer every request with this failure instead (an outage, throttling). */
  failWith: { status: number; type: string } | undefined;
  private server!: Server;
  url = '';

  /** Stores a new version of the secret and makes it AWSCURRENT (the previous one becomes AWSPREVIOUS); returns its id. */
  put(name: string, value: string): string {
    const list = this.versions.get(name) ?? [];
    for (const v of list) v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : [];
    const versionId = randomUUID();
    list.push({ versionId, value, stages: ['AWSCURRENT'] });
    this.versions.set(name, list);
    return versionId;
  }

  clear(): void {
    this.versions.clear();
    this.requests.length = 0;
    this.failWith = undefined;
  }

  /** Shorthand for an outage: every request answers 500. */
  set failing(on: boolean) {
    this.failWith = on ? { status: 500, type: 'InternalServiceError' } : undefined;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const input = JSON.parse(body || '{}') as { SecretId?: string; VersionId?: string; VersionStage?: string };
        this.requests.push({
          target,
          secretId: input.SecretId ?? '',
          ...(input.VersionId !== undefined ? { versionId: input.VersionId } : {}),
          ...(input.VersionStage !== undefined ? { versionStage: input.VersionStage } : {}),
        });
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(json));
        };
        if (this.failWith) return reply(this.failWith.status, { __type: this.failWith.type, message: 'injected failure' });
        if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'InvalidRequestException', message: `unexpected ${target}` });
        const list = this.versions.get(input.SecretId ?? '');
        const notFound = () => reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        if (!list) return notFound();
        const stage = input.VersionStage ?? (input.VersionId === undefined ? 'AWSCURRENT' : undefined);
        const found = list.find((v) => (input.VersionId === undefined || v.versionId === input.VersionId) && (stage === undefined || v.stages.includes(stage)));
        if (!found) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret value for staging label or version." });
        return reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`,
          Name: input.SecretId,
          SecretString: found.value,
          VersionId: found.versionId,
          VersionStages: found.stages,
          CreatedDate: 1_767_225_600,
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
