import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { OpampStack } from '../../cdk/lib/opamp-stack.js';
import type { OpampStackProps } from '../../cdk/lib/opamp-stack.js';

/** The feature flags from cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

export interface TestAppOptions {
  /** Run esbuild for real (slow); by default bundling is skipped. */
  bundle?: boolean;
  outdir?: string;
  context?: Record<string, unknown>;
}

export function testApp(options: TestAppOptions = {}): App {
  return new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
}

/** One stack in an app of its own, bundling skipped. */
export function synthStack(props: OpampStackProps = {}): { app: App; stack: OpampStack; template: Template } {
  const app = testApp();
  const stack = new OpampStack(app, 'OpampStack', props);
  return { app, stack, template: Template.fromStack(stack) };
}

type CfnJson = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string[] };

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild as CfnElement | undefined;
  if (!resource) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(resource);
}

/** The synthesized resource of a construct. */
export function resourceOf(template: Template, construct: IConstruct): CfnJson {
  const resource = (template.toJSON().Resources as Record<string, CfnJson>)[logicalId(construct)];
  if (!resource) throw new Error(`no resource for ${construct.node.path}`);
  return resource;
}

/** Every resource of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, CfnJson> {
  return template.findResources(type) as Record<string, CfnJson>;
}
