import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnResource, StackProps } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_KEY, TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table-schema.js';
import { FLEET_API_OUTPUT, SERVICE_NAMES } from '../../functions/core/service-names.js';
import { MAX_EVALUATION_MINUTES } from './context.js';
import { FLEET_API_ACCESS, FLEET_PREFIXES, grantDataAccess, INGEST_ACCESS, OPAMP_ACCESS, prefixWildcardFindings, ROLLOUTS_ACCESS, SECRET_NAME_PREFIX } from './data-access.js';
import type { DataAccess } from './data-access.js';
import { Monitoring } from './monitoring.js';
import { OpampFunction } from './opamp-function.js';

export interface OpampStackProps extends StackProps {
  /**
   * Reserved concurrency of the public agent function: the most polls it serves
   * at once, which caps both cost and what an unauthenticated caller can burn.
   * Lambda also allows at most 10 requests per second per unit of concurrency, so
   * 100 serves up to 1,000 polls a second: about 30,000 agents at 30 s polling.
   * `false` reserves nothing (for accounts whose concurrency quota is too small
   * to reserve from).
   * @default 100
   */
  readonly opampReservedConcurrency?: number | false;
  /**
   * Delete the table, both buckets (with every object) and the log groups with the
   * stack, and turn off the table's deletion protection. For development stacks.
   * @default false: all of them are retained and the table is protected
   */
  readonly destroyOnRemoval?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** X-Ray active tracing on every function (costs per trace). @default false */
  readonly tracing?: boolean;
  /** An existing SNS topic the alarms notify. @default no notification */
  readonly alarmTopicArn?: string;
  /**
   * How long audit entries (changes to the fleet through the API, the bucket or
   * rollouts) are kept before the table's TTL deletes them, in days.
   * @default 90
   */
  readonly auditRetentionDays?: number;
  /** Extra backend settings for every function, e.g. `{ OPAMP_RECORD_RETENTION_DAYS: '90' }`. */
  readonly settings?: Record<string, string>;
  /**
   * How often (in whole minutes, 1 to 1440) the scheduled rollout function starts
   * staged rollouts and moves running ones along their steps. A step cannot end
   * sooner than the next evaluation after its bake time.
   * @default 1
   */
  readonly rolloutEvaluationMinutes?: number;
}

/**
 * The serverless OpAMP backend: the public agent endpoint and the IAM-only fleet
 * API (each a Lambda Function URL), the ingest function for bucket changes, one
 * DynamoDB table, the operator's S3 bucket and a private one for the server's
 * own state, alarms and a dashboard.
 */
export class OpampStack extends Stack {
  readonly table: Table;
  /** The operator's bucket: configurations, assignments, packages, settings, certificates. */
  readonly bucket: Bucket;
  /** The server's own objects (large status sections), out of reach of anything done to the operator's bucket. */
  readonly stateBucket: Bucket;
  readonly opampFunction: OpampFunction;
  readonly apiFunction: OpampFunction;
  readonly ingestFunction: OpampFunction;
  /** Starts staged rollouts and moves them along, on a schedule. */
  readonly rolloutsFunction: OpampFunction;
  /** The EventBridge schedule that invokes the rollouts function. */
  readonly rolloutSchedule: Rule;
  /** Bucket events the ingest function failed on (after retries). */
  readonly ingestFailures: Queue;
  readonly opampUrl: FunctionUrl;
  readonly fleetApiUrl: FunctionUrl;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: OpampStackProps = {}) {
    super(scope, id, props);
    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEY.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sort, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: !destroy,
      removalPolicy,
    });

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        { id: 'ExpireOldVersions', noncurrentVersionExpiration: Duration.days(90) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs: writes to this bucket come from a few operators and are better audited with CloudTrail data events (often already on at the organisation level); a log bucket per deployment would be one more retained bucket that itself fails S1.',
    });

    // Server-owned objects get a bucket of their own: an operator's `aws s3 sync --delete`
    // of their bucket (or a lifecycle rule, or a cleanup script) cannot reach them, and no
    // operator principal needs any access to it.
    this.stateBucket = new Bucket(this, 'StateBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.stateBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "No server access logs: only the stack's own functions write here (objects named by content hash), through roles limited to agent-state/ and config-history/; CloudTrail data events cover audits without one more retained log bucket.",
    });

    const stores = { table: this.table, bucket: this.bucket, stateBucket: this.stateBucket };
    const common = {
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      logRemovalPolicy: removalPolicy,
      tracing: props.tracing ?? false,
      environment: {
        ...props.settings,
        OPAMP_TABLE: this.table.tableName,
        OPAMP_BUCKET: this.bucket.bucketName,
        OPAMP_STATE_BUCKET: this.stateBucket.bucketName,
      },
    };
    const reserved = props.opampReservedConcurrency ?? 100;
    // The functions that record changes (fleet API, ingest) give their audit entries this TTL.
    const auditing = { ...common.environment, OPAMP_AUDIT_RETENTION_DAYS: String(props.auditRetentionDays ?? 90) };

    this.opampFunction = new OpampFunction(this, 'OpampFunction', {
      ...common,
      // Settings name secrets relative to this prefix; the function may read no others (see ReadOpampSecrets).
      environment: { ...common.environment, OPAMP_SECRET_PREFIX: SECRET_NAME_PREFIX },
      entry: 'opamp.lambda.ts',
      description: 'OpAMP agent endpoint: POST /v1/opamp and GET /healthz (public Function URL)',
      serviceName: SERVICE_NAMES.opamp,
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...(reserved === false ? {} : { reservedConcurrentExecutions: reserved }),
    });
    this.apiFunction = new OpampFunction(this, 'FleetApiFunction', {
      ...common,
      environment: auditing,
      entry: 'api.lambda.ts',
      description: 'OpAMP fleet API: /api/v1/* (IAM-authenticated Function URL)',
      serviceName: SERVICE_NAMES.api,
      memorySize: 256,
      timeout: Duration.seconds(30),
    });

    this.ingestFailures = new Queue(this, 'IngestFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.ingestFunction = new OpampFunction(this, 'IngestFunction', {
      ...common,
      environment: auditing,
      entry: 'ingest.lambda.ts',
      description: 'OpAMP ingest: records bucket changes (configs, assignments, packages, settings, certificates) in the table',
      serviceName: SERVICE_NAMES.ingest,
      memorySize: 256,
      timeout: Duration.seconds(60),
      onFailure: new SqsDestination(this.ingestFailures),
      retryAttempts: 2,
    });
    const notify = new LambdaDestination(this.ingestFunction);
    for (const prefix of FLEET_PREFIXES) {
      this.bucket.addEventNotification(EventType.OBJECT_CREATED, notify, { prefix });
      this.bucket.addEventNotification(EventType.OBJECT_REMOVED, notify, { prefix });
    }

    const evaluationMinutes = props.rolloutEvaluationMinutes ?? 1;
    if (!Number.isInteger(evaluationMinutes) || evaluationMinutes < 1 || evaluationMinutes > MAX_EVALUATION_MINUTES) {
      throw new Error(`rolloutEvaluationMinutes must be a whole number from 1 to ${MAX_EVALUATION_MINUTES}, not ${evaluationMinutes}`);
    }
    this.rolloutsFunction = new OpampFunction(this, 'RolloutsFunction', {
      ...common,
      entry: 'rollouts.lambda.ts',
      description: 'OpAMP rollouts: starts staged rollouts and moves running ones along their steps (scheduled)',
      serviceName: SERVICE_NAMES.rollouts,
      memorySize: 256,
      // One pass over every agent record per run; well inside the shortest schedule.
      timeout: Duration.seconds(60),
      // The next scheduled run does what a retry would.
      retryAttempts: 0,
    });
    this.rolloutSchedule = new Rule(this, 'RolloutSchedule', {
      description: `Evaluates staged rollouts every ${evaluationMinutes} minute(s)`,
      schedule: Schedule.rate(Duration.minutes(evaluationMinutes)),
      targets: [new LambdaFunction(this.rolloutsFunction, { retryAttempts: 0 })],
    });

    const bucketResources = { fleet: this.bucket.node.defaultChild as CfnResource, state: this.stateBucket.node.defaultChild as CfnResource };
    const grants: [OpampFunction, DataAccess][] = [
      [this.opampFunction, OPAMP_ACCESS],
      [this.apiFunction, FLEET_API_ACCESS],
      [this.ingestFunction, INGEST_ACCESS],
      [this.rolloutsFunction, ROLLOUTS_ACCESS],
    ];
    for (const [fn, access] of grants) {
      grantDataAccess(fn, stores, access);
      for (const id of prefixWildcardFindings(bucketResources, access)) {
        Validations.of(fn.executionRole).acknowledge({
          id,
          reason: 'Object access is scoped to the prefixes this function uses; objects under a prefix are named by operators or by content hash and cannot be listed in advance.',
        });
      }
    }

    // Certificate material, the CSR signing CA and credentials settings name
    // may be kept in Secrets Manager, under opamp/ (certificates:
    // "secretsmanager:opamp/<name>"; header values: {"secret": "<name>"}).
    this.opampFunction.executionRole.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadOpampSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${SECRET_NAME_PREFIX}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    Validations.of(this.opampFunction.executionRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${SECRET_NAME_PREFIX}*]`,
      reason: 'Secrets are named by operators (certificate material, the CSR CA, credentials in settings); the grant is limited to the opamp/ name prefix.',
    });

    // Agents authenticate in the app (tokens), so the agent URL is public; its
    // reserved concurrency bounds what anonymous callers can cost.
    this.opampUrl = this.opampFunction.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    this.fleetApiUrl = this.apiFunction.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    const operatorPolicy = new ManagedPolicy(this, 'FleetApiInvokePolicy', {
      description: 'Lets a principal call the OpAMP fleet API (its IAM-authenticated Function URL), e.g. with opampctl',
      statements: [
        new PolicyStatement({
          sid: 'InvokeFleetApiUrl',
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [this.apiFunction.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        new PolicyStatement({
          sid: 'InvokeFleetApiViaUrl',
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunction'],
          resources: [this.apiFunction.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: [
        { name: 'Opamp', fn: this.opampFunction },
        { name: 'FleetApi', fn: this.apiFunction },
        { name: 'Ingest', fn: this.ingestFunction },
        { name: 'Rollouts', fn: this.rolloutsFunction },
      ],
      table: this.table,
      ingestFailures: this.ingestFailures,
      opampServiceName: SERVICE_NAMES.opamp,
      // Every function that runs the rollout engine: the schedule, the ingest (new rollouts) and the fleet API (rollouts looked at).
      rolloutServiceNames: [SERVICE_NAMES.rollouts, SERVICE_NAMES.ingest, SERVICE_NAMES.api],
      rolloutEvaluationMinutes: evaluationMinutes,
      dashboardName: this.stackName,
      ...(props.alarmTopicArn ? { alarmAction: new SnsAction(Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)) } : {}),
    });

    this.acknowledgeFindings(props.tracing ?? false);

    new CfnOutput(this, 'OpampUrl', { value: `${this.opampUrl.url}v1/opamp`, description: 'Agent endpoint (OpAMP over HTTP): point agents here' });
    new CfnOutput(this, FLEET_API_OUTPUT, { value: this.fleetApiUrl.url, description: 'Fleet API base URL (SigV4, service lambda): opampctl --stack reads it' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'Upload configurations to configs/<name>/<file>' });
    new CfnOutput(this, 'StateBucketName', {
      value: this.stateBucket.bucketName,
      description: 'Server-owned state (large status sections, configuration history); written only by the functions, never sync to it',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'FleetApiInvokePolicyArn', { value: operatorPolicy.managedPolicyArn, description: 'Attach to operators who use the fleet API' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }

  /** Findings that are decisions, each on the construct it is about. */
  private acknowledgeFindings(tracing: boolean): void {
    const synchronous = [this.opampFunction, this.apiFunction];
    for (const fn of synchronous) {
      Validations.of(fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: 'Invoked only synchronously through its Function URL; the caller sees every failure, so there is nothing to dead-letter.',
      });
    }
    Validations.of(this.ingestFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Failed asynchronous invocations go to an on-failure destination (the IngestFailures queue), which records the request and the error; a DLQ as well would duplicate it.',
    });
    // A scheduled run carries no data: whatever one run fails to do, the next one does, from the stored state alone.
    const superseded =
      'Invoked by its schedule every few minutes with an event that carries nothing; a failed run is superseded by the next one, which evaluates every rollout afresh from the table, so there is nothing to keep or replay. The Errors alarm reports failed runs.';
    Validations.of(this.rolloutsFunction).acknowledge({ id: 'Serverless-LambdaDLQ', reason: superseded }, { id: 'Serverless-LambdaAsyncFailureDestination', reason: superseded });
    Validations.of(this.rolloutSchedule).acknowledge({ id: 'Serverless-EventBusDLQ', reason: superseded });
    for (const fn of [...synchronous, this.ingestFunction, this.rolloutsFunction]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'Pinned to nodejs22.x on purpose: the code is built and tested on Node 20 and 22; moving to a newer runtime is a deliberate, tested change.',
      });
      Validations.of(fn).acknowledge({
        id: 'Serverless-LambdaLatestVersion',
        reason: 'Pinned to nodejs22.x on purpose: the code is built and tested on Node 20 and 22; moving to a newer runtime is a deliberate, tested change.',
      });
      if (tracing) {
        Validations.of(fn.executionRole).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray tracing is on: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
        });
      } else {
        Validations.of(fn).acknowledge({
          id: 'Serverless-LambdaTracing',
          reason: 'X-Ray is off by default for cost (per trace, at hundreds of millions of polls a month); Powertools metrics and structured logs cover the app. Turn on with the tracing property.',
        });
      }
    }
    // aws-cdk-lib's singleton handler behind bucket.addEventNotification (runs only
    // while deploying); its role is built inside aws-cdk-lib and cannot be changed.
    const notificationsHandler = this.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (notificationsHandler) {
      Validations.of(notificationsHandler.node.findChild('Role')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'Role of the CDK-managed BucketNotifications custom-resource handler, which runs only during deployments to set the bucket notifications; aws-cdk-lib creates it with this managed policy and offers no way to replace it.',
      });
    }
    Validations.of(this.ingestFailures).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the failure destination of the ingest function; it is not fed by another queue.' },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is itself the end of the line for failed ingests (an alarm watches it); nothing consumes it automatically, so there is nothing to redrive.',
      },
    );
  }
}
