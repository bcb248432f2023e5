import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { IDestination } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './monitoring.js';

/** The repository root: the esbuild project root and where package-lock.json lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Lets CommonJS dependencies call `require` inside the ESM bundle (the Powertools
 * sample app uses the same banner).
 */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface OpampFunctionProps {
  /** The handler file under functions/entry/, e.g. `opamp.lambda.ts`; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name: the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Backend settings (OPAMP_*), merged over the house defaults. */
  readonly environment?: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** X-Ray active tracing. @default false */
  readonly tracing?: boolean;
  /** Where failed asynchronous invocations go (S3 notifications are asynchronous). */
  readonly onFailure?: IDestination;
  readonly retryAttempts?: number;
}

/**
 * A NodejsFunction with the house defaults: arm64, Node.js 22, one minified ESM
 * bundle that includes the AWS SDK (so the bundle is what we measure and what
 * runs), source maps, an explicit log group with retention, and its own role
 * holding nothing but log writes until `grantDataAccess` adds the function's
 * table and bucket statements. Bundling runs the locally installed esbuild,
 * never Docker.
 */
export class OpampFunction extends NodejsFunction {
  /** The function's own role (the same object as `role`, typed as a Role). */
  readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: OpampFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An own role instead of the default one: the default attaches the
    // AWSLambdaBasicExecutionRole managed policy, which may write to any log group.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.serviceName}: writes its own log group and touches only the table and bucket paths it uses`,
    });

    super(scope, id, {
      entry: path.join(REPO_ROOT, 'functions', 'entry', props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      ...(props.onFailure ? { onFailure: props.onFailure } : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
      },
    });
    this.executionRole = role;

    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
  }
}
