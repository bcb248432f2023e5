import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAMES } from '../../functions/core/service-names.js';
import { createPowertools } from '../../functions/observability/powertools.js';
import type { OpampStack } from '../../cdk/lib/opamp-stack.js';
import { logicalId, resourceOf, resourcesOfType, synthStack } from './cdk-app.js';

// The scheduled rollout function, its schedule, its grants and the rollout alarms.

const SYNTH_TIMEOUT = 60_000;

let stack: OpampStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack());
}, SYNTH_TIMEOUT);

const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
type AlarmProps = Record<string, unknown> & { Metrics?: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: MetricJson; Period: number; Stat: string } }> };
type MetricJson = { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> };
const alarmsOf = (t: Template) => Object.values(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as AlarmProps);
const alarmNamed = (t: Template, fragment: string) => alarmsOf(t).find((a) => String(a.AlarmDescription).includes(fragment));

describe('The rollouts function', () => {
  it('runs rollouts.lambda.ts on Node.js 22, arm64, with the table, both buckets and its own service name, and no retries', () => {
    const props = resourceOf(template, stack.rolloutsFunction).Properties!;

    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 60 });
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: logicalId(stack.rolloutsFunction.logGroup) }, LogFormat: 'JSON', SystemLogLevel: 'WARN' });
    expect(props.Environment).toEqual({
      Variables: {
        OPAMP_TABLE: { Ref: logicalId(stack.table) },
        OPAMP_BUCKET: { Ref: logicalId(stack.bucket) },
        OPAMP_STATE_BUCKET: { Ref: logicalId(stack.stateBucket) },
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.rollouts,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    expect(String(props.Description)).toContain('rollouts');
    expect(resourceOf(template, stack.rolloutsFunction.logGroup)).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(stack.rolloutsFunction) }, MaximumRetryAttempts: 0 });
  });

  it('may do what the rollout engine does and nothing more: get, query, scan, put, update and delete items in the table, no object access', () => {
    const roleId = logicalId(stack.rolloutsFunction.executionRole);
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((p) => (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleId));

    expect(policies).toHaveLength(1);
    expect((policies[0]!.Properties!.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logicalId(stack.rolloutsFunction.logGroup), 'Arn') },
      {
        Sid: 'Table',
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        Resource: getAtt(logicalId(stack.table), 'Arn'),
      },
    ]);
  });

  it('is invoked by an EventBridge schedule every minute, and by nothing else', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    const fnArn = getAtt(logicalId(stack.rolloutsFunction), 'Arn');

    expect(Object.values(rules).map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [{ Arn: fnArn, Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 0 } }],
      }),
    ]);
    const invokers = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission'))
      .map((p) => p.Properties!)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(fnArn));
    expect(invokers).toEqual([{ Action: 'lambda:InvokeFunction', FunctionName: fnArn, Principal: 'events.amazonaws.com', SourceArn: getAtt(logicalId(stack.rolloutSchedule), 'Arn') }]);
    expect(Object.values(resourcesOfType(template, 'AWS::Lambda::Url')).some((u) => JSON.stringify(u.Properties) === JSON.stringify({ TargetFunctionArn: fnArn }))).toBe(false);
  });

  it(
    'follows rolloutEvaluationMinutes: the schedule rate, and a paused-rollouts period of at least one run',
    () => {
      const every5 = synthStack({ rolloutEvaluationMinutes: 5 }).template;
      const every30 = synthStack({ rolloutEvaluationMinutes: 30 }).template;

      expect(Object.values(resourcesOfType(every5, 'AWS::Events::Rule'))[0]!.Properties!.ScheduleExpression).toBe('rate(5 minutes)');
      expect(alarmNamed(every5, 'is paused and waits')!.Period).toBe(900);
      expect(Object.values(resourcesOfType(every30, 'AWS::Events::Rule'))[0]!.Properties!.ScheduleExpression).toBe('rate(30 minutes)');
      expect(alarmNamed(every30, 'is paused and waits')!.Period).toBe(1800);
    },
    SYNTH_TIMEOUT,
  );

  it.each([0, 1.5, 1441])('refuses rolloutEvaluationMinutes %s', (minutes) => {
    expect(() => synthStack({ rolloutEvaluationMinutes: minutes })).toThrow(/rolloutEvaluationMinutes must be a whole number from 1 to 1440/);
  });
});

describe('Rollout alarms', () => {
  it('alarm when a rollout paused or rolled back, whichever function running the engine saw it', () => {
    const alarm = alarmNamed(template, 'paused or rolled back')!;

    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const stats = alarm.Metrics!.filter((m) => m.MetricStat);
    expect(stats.map((m) => `${m.MetricStat!.Metric.MetricName} ${m.MetricStat!.Metric.Dimensions.map((d) => `${d.Name}=${d.Value}`).join()}`).sort()).toEqual(
      [SERVICE_NAMES.rollouts, SERVICE_NAMES.ingest, SERVICE_NAMES.api].flatMap((s) => [`RolloutPaused service=${s}`, `RolloutRolledBack service=${s}`]).sort(),
    );
    for (const m of stats) expect(m.MetricStat).toMatchObject({ Metric: { Namespace: METRICS_NAMESPACE }, Period: 300, Stat: 'Sum' });
    // Every series counts: a period with a transition in any one of them breaches.
    const expression = alarm.Metrics!.find((m) => m.Expression)!.Expression!;
    for (const m of stats) expect(expression).toContain(`FILL(${m.Id}, 0)`);
  });

  it('alarm while a rollout stays paused: the most paused rollouts a scheduled run counted in 15 minutes', () => {
    expect(alarmNamed(template, 'is paused and waits')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'RolloutsPaused',
      Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.rollouts }],
      Statistic: 'Maximum',
      Period: 900,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  it(
    'notify the same topic as every other alarm',
    () => {
      const topic = 'arn:aws:sns:eu-west-1:123456789012:opamp-alarms';
      const notified = synthStack({ alarmTopicArn: topic }).template;

      for (const fragment of ['paused or rolled back', 'is paused and waits', 'Rollouts function: invocations that failed']) {
        expect(alarmNamed(notified, fragment)!.AlarmActions, fragment).toEqual([topic]);
      }
    },
    SYNTH_TIMEOUT,
  );

  it('put the rollout function on the dashboard, with the rollout transitions', () => {
    const body = JSON.stringify(Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'))[0]!.Properties!.DashboardBody);

    for (const metric of ['RolloutStepStarted', 'RolloutCompleted', 'RolloutPaused', 'RolloutRolledBack', 'RolloutsPaused']) {
      expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"${metric}\\",\\"service\\",\\"${SERVICE_NAMES.rollouts}\\"`);
    }
    // Its errors, duration, throttles and concurrency beside the other functions'.
    expect(body.split(`{"Ref":"${logicalId(stack.rolloutsFunction)}"}`)).toHaveLength(5);
  });
});

describe('What the rollout function publishes', () => {
  beforeAll(() => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it("reaches the alarms: the engine's metric names, in the alarms' namespace, with exactly the alarms' dimensions", () => {
    const engine = readFileSync(new URL('../../functions/service/rollouts/rollout-engine.ts', import.meta.url), 'utf8');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const powertools = createPowertools(SERVICE_NAMES.rollouts);

    for (const name of ['RolloutPaused', 'RolloutRolledBack', 'RolloutsPaused']) {
      expect(engine, `the engine counts ${name}`).toContain(`'${name}'`);
      powertools.telemetry.count(name);
    }
    powertools.flushMetrics();
    const docs = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"_aws"'));
    log.mockRestore();

    expect(docs).toHaveLength(1);
    const doc = JSON.parse(docs[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    const [directive] = doc._aws.CloudWatchMetrics;
    const published = directive!.Metrics.map((m) => ({
      Namespace: directive!.Namespace,
      MetricName: m.Name,
      Dimensions: directive!.Dimensions.flat().map((name) => ({ Name: name, Value: doc[name] })),
    }));
    const watched = [
      ...alarmNamed(template, 'paused or rolled back')!.Metrics!.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])),
      (({ Namespace, MetricName, Dimensions }) => ({ Namespace, MetricName, Dimensions }) as MetricJson)(alarmNamed(template, 'is paused and waits') as unknown as MetricJson),
    ].filter((m) => m.Dimensions.some((d) => d.Value === SERVICE_NAMES.rollouts));
    expect(watched).toHaveLength(3);
    for (const metric of watched) expect(published).toContainEqual(metric);
  });
});
