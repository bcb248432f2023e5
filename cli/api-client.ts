import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiErrorBody } from '../functions/http/errors.js';

/** A failure the CLI reports as one line and a non-zero exit. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
}

export interface ApiTarget {
  baseUrl: string;
  /** Sign requests with SigV4 for a Function URL with AWS_IAM auth. */
  sign: boolean;
  region: string | undefined;
}

/** The stack output that holds the fleet API URL (see cdk/). */
export const FLEET_API_OUTPUT = 'FleetApiUrl';

/**
 * Where the fleet API is: an explicit URL, or the named CloudFormation stack's
 * output. Requests to anything but this machine are signed, because in AWS the
 * fleet API is a Function URL with IAM authentication.
 */
export async function resolveApiTarget(options: { api?: string | undefined; stack?: string | undefined; region?: string | undefined }): Promise<ApiTarget> {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  let baseUrl = options.api ?? process.env.OPAMP_API_URL;
  if (!baseUrl && options.stack) baseUrl = await stackOutput(options.stack, FLEET_API_OUTPUT, region);
  baseUrl ??= 'http://127.0.0.1:4320';
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CliError(`not a URL: ${baseUrl}`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const urlRegion = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
  return { baseUrl: baseUrl.replace(/\/+$/, ''), sign: !local, region: region ?? urlRegion };
}

async function stackOutput(stack: string, output: string, region: string | undefined): Promise<string> {
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const value = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === output)?.OutputValue;
    if (!value) throw new CliError(`stack ${stack} has no output ${output}`);
    return value;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`could not read stack ${stack}: ${(error as Error).message}`);
  }
}

export class ApiClient {
  private signer: SignatureV4 | undefined;

  constructor(private readonly target: ApiTarget) {}

  async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = new URL(`${this.target.baseUrl}${path}`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    if (this.target.sign) headers = await this.signedHeaders(method, url, headers, payload);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (error) {
      throw new CliError(`cannot reach the fleet API at ${this.target.baseUrl}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      // The fleet API's error body, or what the Function URL itself answers (an IAM refusal: {"Message": ...}).
      const message = (json as Partial<ApiErrorBody> | undefined)?.error?.message ?? (json as { Message?: string } | undefined)?.Message ?? text.trim();
      throw new CliError(`${response.status} ${message || response.statusText}`);
    }
    return json as T;
  }

  private async signedHeaders(method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
    if (!this.target.region) throw new CliError('no AWS region: pass --region or set AWS_REGION');
    this.signer ??= new SignatureV4({ service: 'lambda', region: this.target.region, credentials: defaultProvider(), sha256: Hash.bind(null, 'sha256') });
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    try {
      const signed = await this.signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        ...(body !== undefined ? { body } : {}),
      });
      return signed.headers;
    } catch (error) {
      throw new CliError(`could not sign the request (AWS credentials?): ${(error as Error).message}`);
    }
  }
}
