import { Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sectionBlobKey } from '../../functions/adapters/dynamodb/agent-store.js';
import { AGENT_STATE_PREFIX, CONFIG_HISTORY_PREFIX, MANAGED_PREFIXES } from '../../functions/core/bucket-layout.js';
import { FLEET_API_OUTPUT, METRICS_NAMESPACE, SERVICE_NAMES } from '../../functions/core/service-names.js';
import { MAX_DEADLINE_SECONDS } from '../../functions/config.js';
import type { OpampFunction } from '../../cdk/lib/opamp-function.js';
import type { OpampStack } from '../../cdk/lib/opamp-stack.js';
import { logicalId, resourceOf, resourcesOfType, synthStack } from './cdk-app.js';

// Synthesis with bundling skipped takes a few seconds per stack: one default
// stack for most assertions, one per property variant.
const SYNTH_TIMEOUT = 60_000;

let stack: OpampStack;
let template: Template;
let ids: { table: string; bucket: string; stateBucket: string; queue: string; opamp: string; api: string; ingest: string };

beforeAll(() => {
  ({ stack, template } = synthStack());
  ids = {
    table: logicalId(stack.table),
    bucket: logicalId(stack.bucket),
    stateBucket: logicalId(stack.stateBucket),
    queue: logicalId(stack.ingestFailures),
    opamp: logicalId(stack.opampFunction),
    api: logicalId(stack.apiFunction),
    ingest: logicalId(stack.ingestFunction),
  };
}, SYNTH_TIMEOUT);

const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
const objectsUnder = (prefix: string, bucket = ids.bucket) => ({ 'Fn::Join': ['', [getAtt(bucket, 'Arn'), `/${prefix}*`]] });
const stateObjectsUnder = (prefix: string) => objectsUnder(prefix, ids.stateBucket);

/** The statements of the role's policy, as synthesized. */
function roleStatements(fn: OpampFunction): Record<string, unknown>[] {
  const roleId = logicalId(fn.executionRole);
  const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((p) => (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleId));
  expect(policies).toHaveLength(1);
  return (policies[0]!.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
}

const logStatement = (fn: OpampFunction) => ({
  Sid: 'WriteOwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: getAtt(logicalId(fn.logGroup), 'Arn'),
});

describe('Functions', () => {
  it('time out later than the longest request deadline the settings accept, so a slow store is a 503, not a timeout', () => {
    const timeout = (fn: OpampFunction) => resourceOf(template, fn).Properties!.Timeout as number;

    expect(timeout(stack.opampFunction)).toBeGreaterThan(Math.max(MAX_DEADLINE_SECONDS.poll, MAX_DEADLINE_SECONDS.health));
    expect(timeout(stack.apiFunction)).toBeGreaterThan(Math.max(MAX_DEADLINE_SECONDS.api, MAX_DEADLINE_SECONDS.health));
  });

  it.each([
    ['opamp', 'opamp', 256, 10],
    ['api', 'opamp-api', 256, 30],
    ['ingest', 'opamp-ingest', 256, 60],
  ] as const)('the %s function runs Node.js 22 on arm64 with its memory, timeout and environment', (name, service, memory, timeout) => {
    const fn = { opamp: stack.opampFunction, api: stack.apiFunction, ingest: stack.ingestFunction }[name];

    const props = resourceOf(template, fn).Properties!;

    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: memory,
      Timeout: timeout,
      Role: getAtt(logicalId(fn.executionRole), 'Arn'),
      // JSON logs without the START/END/REPORT platform lines of every invocation.
      LoggingConfig: { LogGroup: { Ref: logicalId(fn.logGroup) }, LogFormat: 'JSON', SystemLogLevel: 'WARN' },
    });
    expect(props.TracingConfig).toBeUndefined();
    expect(props.Environment).toEqual({
      Variables: {
        OPAMP_TABLE: { Ref: ids.table },
        OPAMP_BUCKET: { Ref: ids.bucket },
        OPAMP_STATE_BUCKET: { Ref: ids.stateBucket },
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: 'OpAMP',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        // Only the agent function reads secrets, under the prefix its role may read.
        ...(name === 'opamp' ? { OPAMP_SECRET_PREFIX: 'opamp/' } : {}),
        // The functions that record changes keep audit entries this long.
        ...(name !== 'opamp' ? { OPAMP_AUDIT_RETENTION_DAYS: '90' } : {}),
      },
    });
  });

  it("names each function's service and metric namespace as the entry files publish them, and graphs those metrics", () => {
    const env = (fn: OpampFunction) => (resourceOf(template, fn).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    const dashboard = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'))[0]!;
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);

    expect([stack.opampFunction, stack.apiFunction, stack.ingestFunction].map((fn) => env(fn).POWERTOOLS_SERVICE_NAME)).toEqual([SERVICE_NAMES.opamp, SERVICE_NAMES.api, SERVICE_NAMES.ingest]);
    expect(new Set([stack.opampFunction, stack.apiFunction, stack.ingestFunction].map((fn) => env(fn).POWERTOOLS_METRICS_NAMESPACE))).toEqual(new Set([METRICS_NAMESPACE]));
    // The body is JSON inside a CloudFormation string: its quotes come escaped.
    expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"Polls\\",\\"service\\",\\"${SERVICE_NAMES.opamp}\\"`);
  });

  it('caps the agent function at 100 concurrent executions and reserves nothing for the others', () => {
    expect(resourceOf(template, stack.opampFunction).Properties!.ReservedConcurrentExecutions).toBe(100);
    expect(resourceOf(template, stack.apiFunction).Properties!.ReservedConcurrentExecutions).toBeUndefined();
    expect(resourceOf(template, stack.ingestFunction).Properties!.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('gives each function its own log group, kept for a month and retained with the stack', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(Object.keys(logGroups)).toHaveLength(4);
    for (const fn of [stack.opampFunction, stack.apiFunction, stack.ingestFunction, stack.rolloutsFunction]) {
      expect(resourceOf(template, fn.logGroup)).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('uses roles without managed policies (no AWSLambdaBasicExecutionRole)', () => {
    for (const fn of [stack.opampFunction, stack.apiFunction, stack.ingestFunction, stack.rolloutsFunction]) {
      const role = resourceOf(template, fn.executionRole).Properties!;
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      });
    }
  });

  it('sends failed bucket events to a queue after two retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.ingest },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt(ids.queue, 'Arn') } },
    });
    expect(resourceOf(template, stack.ingestFailures).Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
  });
});

describe('Function URLs', () => {
  it('serves agents through a public URL and the fleet API through an IAM-authenticated one', () => {
    const urls = resourcesOfType(template, 'AWS::Lambda::Url');
    expect(Object.values(urls).map((u) => u.Properties)).toEqual(
      expect.arrayContaining([
        { AuthType: 'NONE', TargetFunctionArn: getAtt(ids.opamp, 'Arn') },
        { AuthType: 'AWS_IAM', TargetFunctionArn: getAtt(ids.api, 'Arn') },
      ]),
    );
    expect(Object.keys(urls)).toHaveLength(2);
  });

  it('lets anyone invoke the agent function through its URL only: InvokeFunctionUrl (auth NONE) and InvokeFunction (via the URL)', () => {
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).map((p) => p.Properties);

    expect(permissions.filter((p) => p!.Principal === '*')).toEqual([
      { Action: 'lambda:InvokeFunctionUrl', FunctionName: getAtt(ids.opamp, 'Arn'), FunctionUrlAuthType: 'NONE', Principal: '*' },
      { Action: 'lambda:InvokeFunction', FunctionName: getAtt(ids.opamp, 'Arn'), InvokedViaFunctionUrl: true, Principal: '*' },
    ]);
  });

  it('grants no resource-based permission on the fleet API function', () => {
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).map((p) => p.Properties!);

    expect(permissions.filter((p) => JSON.stringify(p.FunctionName).includes(ids.api))).toEqual([]);
    expect(permissions).toHaveLength(4); // the two public ones, S3 -> ingest and the rollout schedule -> rollouts
  });

  it('offers operators a managed policy that can call the fleet API URL and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'InvokeFleetApiUrl',
            Effect: 'Allow',
            Action: 'lambda:InvokeFunctionUrl',
            Resource: getAtt(ids.api, 'Arn'),
            Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
          },
          {
            Sid: 'InvokeFleetApiViaUrl',
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: getAtt(ids.api, 'Arn'),
            Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
          },
        ],
      },
    });
  });
});

describe('IAM', () => {
  const listPrefixes = () => ({
    Sid: 'ListFleetPrefixes',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: getAtt(ids.bucket, 'Arn'),
    Condition: { StringLike: { 's3:prefix': ['configs/*', 'assignments/*', 'packages/*', 'settings/*', 'certificates/*'] } },
  });

  it('the agent function reads and writes agent records, reads configs, packages and certificates, keeps large sections under agent-state/ in the state bucket, and reads opamp/ secrets', () => {
    expect(roleStatements(stack.opampFunction)).toEqual([
      logStatement(stack.opampFunction),
      {
        Sid: 'Table',
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Resource: getAtt(ids.table, 'Arn'),
      },
      {
        Sid: 'ReadConfigsPackagesCertificates',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [objectsUnder('certificates/'), objectsUnder('configs/'), objectsUnder('packages/')],
      },
      { Sid: 'ReadWriteAgentState', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: stateObjectsUnder('agent-state/') },
      { Sid: 'ReadConfigHistory', Effect: 'Allow', Action: 's3:GetObject', Resource: stateObjectsUnder('config-history/') },
      {
        Sid: 'ReadOpampSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:opamp/*']],
        },
      },
    ]);
  });

  it('the fleet API manages configs, assignments, packages, settings and certificates, reads agent state from the state bucket, and lists only the fleet prefixes', () => {
    expect(roleStatements(stack.apiFunction)).toEqual([
      logStatement(stack.apiFunction),
      {
        Sid: 'Table',
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        Resource: getAtt(ids.table, 'Arn'),
      },
      {
        Sid: 'ManageFleetObjects',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: [objectsUnder('assignments/'), objectsUnder('certificates/'), objectsUnder('configs/'), objectsUnder('packages/'), objectsUnder('settings/')],
      },
      { Sid: 'ReadAgentState', Effect: 'Allow', Action: 's3:GetObject', Resource: stateObjectsUnder('agent-state/') },
      { Sid: 'ReadConfigHistory', Effect: 'Allow', Action: 's3:GetObject', Resource: stateObjectsUnder('config-history/') },
      listPrefixes(),
    ]);
  });

  it('the ingest function reads the fleet objects, writes fleet metadata, copies configuration versions to config-history/, runs the rollout engine (agent scan), and may send failures to its queue', () => {
    expect(roleStatements(stack.ingestFunction)).toEqual([
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: getAtt(ids.queue, 'Arn') },
      logStatement(stack.ingestFunction),
      {
        Sid: 'Table',
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        Resource: getAtt(ids.table, 'Arn'),
      },
      {
        Sid: 'ReadFleetObjects',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [objectsUnder('assignments/'), objectsUnder('certificates/'), objectsUnder('configs/'), objectsUnder('packages/'), objectsUnder('settings/')],
      },
      { Sid: 'WriteConfigHistory', Effect: 'Allow', Action: 's3:PutObject', Resource: stateObjectsUnder('config-history/') },
      listPrefixes(),
      {
        Sid: 'ListStatePrefixes',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: getAtt(ids.stateBucket, 'Arn'),
        Condition: { StringLike: { 's3:prefix': ['config-history/*'] } },
      },
    ]);
  });

  it('grants on exactly the prefixes the functions read and write (functions/core/bucket-layout.ts), no other copy', () => {
    const statements = [stack.opampFunction, stack.apiFunction, stack.ingestFunction].flatMap((fn) => roleStatements(fn));
    const grantedUnder = (bucket: string) => {
      const prefixes = new Set<string>();
      for (const st of statements) {
        for (const resource of [st.Resource].flat()) {
          const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
          if (!join || JSON.stringify(join[1][0]) !== JSON.stringify(getAtt(bucket, 'Arn'))) continue;
          prefixes.add((join[1][1] as string).replace(/^\//, '').replace(/\*$/, ''));
        }
      }
      return [...prefixes].sort();
    };
    const listed = statements.filter((st) => st.Sid === 'ListFleetPrefixes').map((st) => (st.Condition as { StringLike: { 's3:prefix': string[] } }).StringLike['s3:prefix']);

    expect(grantedUnder(ids.bucket)).toEqual([...MANAGED_PREFIXES].sort());
    expect(grantedUnder(ids.stateBucket)).toEqual([AGENT_STATE_PREFIX, CONFIG_HISTORY_PREFIX]);
    expect(listed).toEqual([MANAGED_PREFIXES.map((prefix) => `${prefix}*`), MANAGED_PREFIXES.map((prefix) => `${prefix}*`)]);
    expect(sectionBlobKey('health', 'abc').startsWith(AGENT_STATE_PREFIX)).toBe(true);
  });

  it("gives nothing in the operator's bucket to server state, and the ingest function nothing in the state bucket but config-history/", () => {
    const statements = [stack.opampFunction, stack.apiFunction, stack.ingestFunction].flatMap((fn) => roleStatements(fn).map((st) => ({ fn, st })));
    const onState = statements.filter(({ st }) => JSON.stringify(st.Resource).includes(`"${ids.stateBucket}"`));

    expect(JSON.stringify(statements.filter(({ st }) => JSON.stringify(st.Resource).includes(`"${ids.bucket}"`)).map(({ st }) => st))).not.toContain('agent-state');
    expect(onState.filter(({ fn }) => fn !== stack.ingestFunction).map(({ fn }) => fn)).toEqual([stack.opampFunction, stack.opampFunction, stack.apiFunction, stack.apiFunction]);
    expect(JSON.stringify(onState.filter(({ fn }) => fn === stack.ingestFunction).map(({ st }) => st))).not.toContain('agent-state');
    expect(onState.flatMap(({ st }) => [st.Action].flat())).not.toContain('s3:DeleteObject');
  });

  it('no IAM policy in the stack allows every action, every action of a service, or every resource', () => {
    const documents = [...Object.values(resourcesOfType(template, 'AWS::IAM::Policy')), ...Object.values(resourcesOfType(template, 'AWS::IAM::ManagedPolicy'))].map(
      (p) => p.Properties!.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown }[] },
    );

    const allows = documents.flatMap((d) => d.Statement).filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(10);
    for (const statement of allows) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/(^\*$|:\*$)/);
      for (const resource of [statement.Resource].flat()) expect(resource).not.toBe('*');
    }
  });
});

describe('Table', () => {
  it('has string keys pk and sk, on-demand billing, point-in-time recovery and TTL on expiresAt', () => {
    expect(resourceOf(template, stack.table).Properties).toEqual({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is protected from deletion and retained with the stack by default', () => {
    expect(resourceOf(template, stack.table)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { DeletionProtectionEnabled: true } });
  });
});

describe('Bucket', () => {
  it('is private, encrypted with S3-managed keys, versioned, and owner-enforced', () => {
    expect(resourceOf(template, stack.bucket).Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('expires old object versions and abandoned uploads', () => {
    expect(resourceOf(template, stack.bucket).Properties!.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: 'ExpireOldVersions', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' },
        { Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
      ],
    });
  });

  it('denies every request that does not use TLS (1.2 or later)', () => {
    const bucketAndObjects = [getAtt(ids.bucket, 'Arn'), objectsUnder('')];
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: bucketAndObjects },
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } }, Resource: bucketAndObjects },
        ]),
      },
    });
  });

  it('is retained with the stack and keeps its objects by default', () => {
    expect(resourceOf(template, stack.bucket)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('has a private state bucket of its own for server-owned objects: encrypted, TLS only, retained, and sending no events', () => {
    expect(ids.stateBucket).not.toBe(ids.bucket);
    expect(resourceOf(template, stack.stateBucket)).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    });
    const stateAndObjects = [getAtt(ids.stateBucket, 'Arn'), stateObjectsUnder('')];
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.stateBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: stateAndObjects }]),
      },
    });
    const notified = Object.values(resourcesOfType(template, 'Custom::S3BucketNotifications')).map((r) => r.Properties!.BucketName);
    expect(notified).toEqual([{ Ref: ids.bucket }]);
  });

  it('tells the ingest function about every object created or removed under configs/, assignments/, packages/, settings/ and certificates/', () => {
    const ingestArn = getAtt(ids.ingest, 'Arn');
    const config = (event: string, prefix: string) => ({ Events: [event], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } }, LambdaFunctionArn: ingestArn });

    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: ids.bucket },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: ['configs/', 'assignments/', 'packages/', 'settings/', 'certificates/'].flatMap((prefix) => [
          config('s3:ObjectCreated:*', prefix),
          config('s3:ObjectRemoved:*', prefix),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: ingestArn,
      Principal: 's3.amazonaws.com',
      SourceArn: getAtt(ids.bucket, 'Arn'),
    });
  });
});

describe('Monitoring', () => {
  const alarms = () => Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);

  it.each(['Errors', 'Throttles'])('alarms on %s of each function', (metricName) => {
    for (const id of [ids.opamp, ids.api, ids.ingest, logicalId(stack.rolloutsFunction)]) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: metricName,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
    }
  });

  it.each(['ThrottledRequests', 'SystemErrors'])('alarms on DynamoDB %s across the operations the functions use', (metricName) => {
    const alarm = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes(`"MetricName":"${metricName}"`));

    expect(alarm).toBeDefined();
    const operations = (alarm!.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }[])
      .flatMap((m) => m.MetricStat?.Metric.Dimensions ?? [])
      .filter((d) => d.Name === 'Operation')
      .map((d) => d.Value);
    expect(operations.sort()).toEqual(['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'Scan', 'UpdateItem']);
  });

  it("alarms when agents hold a certificate that expires soon (the agent function's metric, over an hour)", () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'OpAMP',
        MetricName: 'CertificatesExpiringSoon',
        Dimensions: [{ Name: 'service', Value: 'opamp' }],
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  });

  it('alarms when a bucket event ends up in the failure queue', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: getAtt(ids.queue, 'QueueName') }] }),
    );
    expect(alarms()).toHaveLength(14);
    expect(alarms().every((a) => a.AlarmActions === undefined)).toBe(true);
  });

  it('has a dashboard with the agent traffic, rejections, errors, duration and throttles', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties!.DashboardBody);

    for (const metric of ['Polls', 'NewAgents', 'FullStateRequests', 'ConfigsSent', 'ConfigFailures', 'WriteConflicts']) {
      expect(body).toContain(`[\\"OpAMP\\",\\"${metric}\\",\\"service\\",\\"opamp\\"`);
    }
    expect(body).toContain('MetricName=\\\\\\"RejectedRequests\\\\\\"');
    expect(body).toContain('{OpAMP,reason,service}');
    for (const metric of ['Errors', 'Duration', 'Throttles', 'ConcurrentExecutions']) expect(body).toContain(`[\\"AWS/Lambda\\",\\"${metric}\\"`);
    expect(dashboards[0]!.Properties!.DashboardName).toBe('OpampStack');
  });
});

describe('Outputs', () => {
  it('gives the agent URL with its path, the fleet API URL (read by opampctl), the bucket and the table', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    expect(outputs.OpampUrl!.Value).toEqual({ 'Fn::Join': ['', [getAtt(logicalId(stack.opampUrl), 'FunctionUrl'), 'v1/opamp']] });
    expect(outputs[FLEET_API_OUTPUT]!.Value).toEqual(getAtt(logicalId(stack.fleetApiUrl), 'FunctionUrl'));
    expect(outputs.BucketName!.Value).toEqual({ Ref: ids.bucket });
    expect(outputs.StateBucketName!.Value).toEqual({ Ref: ids.stateBucket });
    expect(outputs.TableName!.Value).toEqual({ Ref: ids.table });
    expect(outputs.FleetApiInvokePolicyArn).toBeDefined();
  });

  it('is environment-agnostic: no account or region is baked in', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });
});

describe('Properties', () => {
  it(
    'destroyOnRemoval turns deletion protection off and deletes table, both buckets (with their objects) and log groups with the stack',
    () => {
      const dev = synthStack({ destroyOnRemoval: true });

      expect(resourceOf(dev.template, dev.stack.table)).toMatchObject({ DeletionPolicy: 'Delete', Properties: { DeletionProtectionEnabled: false } });
      expect(resourceOf(dev.template, dev.stack.bucket)).toMatchObject({ DeletionPolicy: 'Delete' });
      expect(resourceOf(dev.template, dev.stack.stateBucket)).toMatchObject({ DeletionPolicy: 'Delete' });
      dev.template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
      for (const logGroup of Object.values(resourcesOfType(dev.template, 'AWS::Logs::LogGroup'))) expect(logGroup.DeletionPolicy).toBe('Delete');
    },
    SYNTH_TIMEOUT,
  );

  it(
    'sets reserved concurrency, log retention, tracing, alarm notifications and extra settings',
    () => {
      const topic = 'arn:aws:sns:eu-west-1:123456789012:opamp-alarms';
      const custom = synthStack({
        opampReservedConcurrency: 25,
        logRetention: RetentionDays.ONE_WEEK,
        tracing: true,
        alarmTopicArn: topic,
        settings: { OPAMP_RECORD_RETENTION_DAYS: '90' },
      });

      const opamp = resourceOf(custom.template, custom.stack.opampFunction).Properties!;
      expect(opamp).toMatchObject({ ReservedConcurrentExecutions: 25, TracingConfig: { Mode: 'Active' } });
      expect(opamp.Environment).toMatchObject({ Variables: { OPAMP_RECORD_RETENTION_DAYS: '90' } });
      for (const logGroup of Object.values(resourcesOfType(custom.template, 'AWS::Logs::LogGroup'))) expect(logGroup.Properties!.RetentionInDays).toBe(7);
      const alarms = Object.values(resourcesOfType(custom.template, 'AWS::CloudWatch::Alarm'));
      expect(alarms.map((a) => a.Properties!.AlarmActions)).toEqual(alarms.map(() => [topic]));
    },
    SYNTH_TIMEOUT,
  );

  it(
    'opampReservedConcurrency false reserves nothing',
    () => {
      const unreserved = synthStack({ opampReservedConcurrency: false });

      expect(resourceOf(unreserved.template, unreserved.stack.opampFunction).Properties!.ReservedConcurrentExecutions).toBeUndefined();
    },
    SYNTH_TIMEOUT,
  );
});
