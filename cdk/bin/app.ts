#!/usr/bin/env node
// The CDK app: one OpampStack, checked by cdk-nag (AwsSolutions and Serverless packs).
// Settings come from context, e.g. `npm run deploy -- -c destroyOnRemoval=true` (see cdk/lib/context.ts).
import { App, Validations } from 'aws-cdk-lib';
import { settingsFromContext } from '../lib/context.js';
import { nagPacks } from '../lib/nag.js';
import { OpampStack } from '../lib/opamp-stack.js';

const app = new App();
const { stackName, props } = settingsFromContext(app.node);
new OpampStack(app, stackName, {
  ...props,
  description: 'Serverless OpAMP backend: agent endpoint, fleet API, DynamoDB table and S3 bucket',
});
Validations.of(app).addPlugins(...nagPacks(app));
