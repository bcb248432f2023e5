import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an
 * esbuild alias, see cdk/lib/bundling.ts). In Lambda the execution role's
 * credentials are in the environment, the first place the SDK's default chain
 * looks; the rest of that chain (profiles, SSO, web identity, instance
 * metadata) would only add weight to every cold start.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
