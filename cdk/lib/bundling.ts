import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the esbuild project root and where package-lock.json lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How every function is bundled, in one place: the CDK stack and the
 * benchmark's cold-start measurement build with the same settings.
 */
export const BUNDLING = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  minify: true,
  /** Lets CommonJS dependencies call `require` inside the ESM bundle (the Powertools sample app uses the same banner). */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  /**
   * Left to the SDK the Node.js 22 runtime provides, and loaded only when a
   * function first uses S3 (most polls never do): the DynamoDB client every
   * poll needs is bundled, the rest would only slow every cold start.
   */
  external: ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner'],
  /** The SDK's default credential chain, replaced by the environment provider it would pick first in Lambda. */
  alias: { '@aws-sdk/credential-provider-node': path.join(REPO_ROOT, 'functions', 'adapters', 'lambda-credentials.ts') },
} as const;
