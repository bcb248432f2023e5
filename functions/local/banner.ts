import { EMULATOR_CREDENTIALS } from '../adapters/client-settings.js';

export interface BannerFacts {
  url: string;
  dataDir: string;
  agentAuth: 'none' | 'token';
  bucket: string;
  region: string;
  dynamodbEndpoint: string;
  s3Endpoint: string;
  embedded: { dynamodb: boolean; s3: boolean };
}

/**
 * What `npm start` prints: every address a newcomer needs, and for the
 * embedded S3 a command to paste as it is. The emulator keeps uploads intact
 * only when the client sends checksums just where S3 requires them, hence
 * the two checksum variables (current AWS CLI and SDKs read them).
 */
export function startBanner(facts: BannerFacts): string {
  const stores = facts.embedded.dynamodb || facts.embedded.s3 ? `embedded stores, data in ${facts.dataDir}` : 'external stores';
  const auth = facts.agentAuth === 'token' ? 'agents need a token (opampctl token create <name>)' : 'no agent authentication (OPAMP_AGENT_AUTH=token to require tokens)';
  const lines = [
    `OpAMP backend running (${stores}; ${auth})`,
    `  console:                  ${facts.url}/`,
    `  agents (OpAMP over HTTP): ${facts.url}/v1/opamp`,
    `  fleet API:                ${facts.url}/api/v1  (opampctl --api ${facts.url}/api/v1 agents)`,
    `  health:                   ${facts.url}/healthz`,
    `  DynamoDB: ${facts.dynamodbEndpoint}${facts.embedded.dynamodb ? ' (embedded)' : ''}`,
    `  S3:       ${facts.s3Endpoint}${facts.embedded.s3 ? ' (embedded)' : ''}, bucket ${facts.bucket}`,
  ];
  if (facts.embedded.s3) {
    const env = [
      `AWS_ACCESS_KEY_ID=${EMULATOR_CREDENTIALS.accessKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${EMULATOR_CREDENTIALS.secretAccessKey}`,
      `AWS_REGION=${facts.region}`,
      'AWS_REQUEST_CHECKSUM_CALCULATION=when_required',
      'AWS_RESPONSE_CHECKSUM_VALIDATION=when_required',
    ].join(' ');
    lines.push(`  the bucket with the AWS CLI (OPAMP_S3_PORT keeps this port across restarts):`);
    lines.push(`    ${env} aws --endpoint-url ${facts.s3Endpoint} s3 ls s3://${facts.bucket}/`);
  }
  lines.push('Demo agents: npm run demo (in another terminal). Press Ctrl-C to stop.');
  return lines.join('\n');
}
