import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the esbuild project root and where package-lock.json lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How every function is bundled, in one place: the CDK stack and the
 * benchmark's cold-start measurement build with the same settings.
 */
/** The script that bundles the side packages into a function's output directory. */
const SIDE_PACKAGES_SCRIPT = path.join(REPO_ROOT, 'cdk', 'lib', 'side-packages.mjs');

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
   * function first uses S3 or Secrets Manager (most polls never do): the
   * DynamoDB client every poll needs is bundled, the rest would only slow
   * every cold start.
   */
  external: ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', '@aws-sdk/client-secrets-manager'],
  /**
   * Loaded only by rare requests (signing an agent's certificate request), so
   * kept out of the bundle and its cold start: each is bundled on its own into
   * the function's node_modules/ (side-packages.mjs) and imported on first use
   * (functions/service/x509.ts).
   */
  sidePackages: ['reflect-metadata', '@peculiar/x509'],
  /** The SDK's default credential chain, replaced by the environment provider it would pick first in Lambda. */
  alias: { '@aws-sdk/credential-provider-node': path.join(REPO_ROOT, 'functions', 'adapters', 'lambda-credentials.ts') },
} as const;

/** The shell command that writes the side packages into a function's output directory. */
export function sidePackagesCommand(outputDir: string): string {
  const options = { packages: BUNDLING.sidePackages, target: BUNDLING.target, mainFields: BUNDLING.mainFields, banner: BUNDLING.banner, minify: BUNDLING.minify };
  const encoded = Buffer.from(JSON.stringify(options)).toString('base64');
  return `node ${shellQuote(SIDE_PACKAGES_SCRIPT)} ${shellQuote(outputDir)} ${encoded}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
