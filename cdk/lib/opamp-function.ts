import path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { IDestination } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLING, REPO_ROOT, sidePackagesCommand } from './bundling.js';
import { METRICS_NAMESPACE } from '../../functions/core/service-names.js';

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
 * bundle, source maps, JSON logs without Lambda's per-invocation platform
 * lines, an explicit log group with retention, and its own role holding
 * nothing but log writes until `grantDataAccess` adds the function's table and
 * bucket statements. Bundling runs the locally installed esbuild, never Docker.
 *
 * The bundle holds the DynamoDB client; the S3 client and presigner come from
 * the SDK the Node.js 22 runtime provides, loaded on first use (see
 * bundling.ts). The X.509 library sits beside the bundle in node_modules/,
 * loaded only when an agent's CSR is signed. The trade: for S3 the runtime's SDK release is AWS's choice,
 * not the lock file's; the code uses only long-stable S3 APIs.
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
      // START/END/REPORT lines for every invocation would be most of the log bill
      // at polling rates; JSON format lets them be filtered out by level.
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel.WARN,
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
        target: BUNDLING.target,
        mainFields: [...BUNDLING.mainFields],
        banner: BUNDLING.banner,
        minify: BUNDLING.minify,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
        externalModules: [...BUNDLING.external, ...BUNDLING.sidePackages],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [sidePackagesCommand(outputDir)],
        },
        esbuildArgs: Object.fromEntries(Object.entries(BUNDLING.alias).map(([from, to]) => [`--alias:${from}`, to])),
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
