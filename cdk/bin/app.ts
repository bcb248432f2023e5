#!/usr/bin/env node
// The CDK app: one OpampStack, checked by cdk-nag (AwsSolutions and Serverless packs).
// Settings come from context, e.g. `npm run deploy -- -c destroyOnRemoval=true` (see cdk/lib/context.ts).
import { App, Validations } from 'aws-cdk-lib';
import { ContextError, settingsFromContext } from '../lib/context.js';
import { nagPacks } from '../lib/nag.js';
import { OpampStack } from '../lib/opamp-stack.js';

const app = new App();
const { stackName, props } = settingsOrExit();
new OpampStack(app, stackName, {
  ...props,
  description: 'Serverless OpAMP backend: agent endpoint, fleet API, DynamoDB table and S3 bucket',
});
Validations.of(app).addPlugins(...nagPacks(app));

/** A wrong -c value is the deployer's typo: one line saying what is wrong, not a stack trace. */
function settingsOrExit(): ReturnType<typeof settingsFromContext> {
  try {
    return settingsFromContext(app.node);
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    console.error(`opamp: ${error.message}`);
    process.exit(1);
  }
}
