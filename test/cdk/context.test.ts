import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ContextError, DEFAULT_STACK_NAME, settingsFromContext } from '../../cdk/lib/context.js';

const settings = (context: Record<string, unknown>) => settingsFromContext(new App({ context }).node);

describe('settingsFromContext', () => {
  it('defaults to the stack OpampStack with the stack defaults', () => {
    expect(settings({})).toEqual({ stackName: DEFAULT_STACK_NAME, props: {} });
    expect(DEFAULT_STACK_NAME).toBe('OpampStack');
  });

  it('reads -c values, which arrive as strings', () => {
    expect(
      settings({
        stackName: 'OpampDev',
        destroyOnRemoval: 'true',
        opampReservedConcurrency: '20',
        logRetentionDays: '7',
        tracing: 'false',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
      }),
    ).toEqual({
      stackName: 'OpampDev',
      props: {
        destroyOnRemoval: true,
        opampReservedConcurrency: 20,
        logRetention: RetentionDays.ONE_WEEK,
        tracing: false,
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
      },
    });
  });

  it('reads cdk.json values, which keep their JSON types', () => {
    expect(settings({ destroyOnRemoval: true, opampReservedConcurrency: 50, logRetentionDays: 90 }).props).toEqual({
      destroyOnRemoval: true,
      opampReservedConcurrency: 50,
      logRetention: RetentionDays.THREE_MONTHS,
    });
  });

  it('keeps audit entries for auditRetentionDays', () => {
    expect(settings({ auditRetentionDays: '365' }).props).toEqual({ auditRetentionDays: 365 });
  });

  it('reads the rollout evaluation interval in minutes, from -c or cdk.json', () => {
    expect(settings({ rolloutEvaluationMinutes: '5' }).props).toEqual({ rolloutEvaluationMinutes: 5 });
    expect(settings({ rolloutEvaluationMinutes: 1440 }).props).toEqual({ rolloutEvaluationMinutes: 1440 });
  });

  it('takes none to reserve no concurrency', () => {
    expect(settings({ opampReservedConcurrency: 'none' }).props).toEqual({ opampReservedConcurrency: false });
  });

  it('passes agent-facing settings to the functions as environment settings', () => {
    expect(
      settings({
        publicUrl: 'https://opamp.example.com/v1/opamp',
        csrCa: 'secretsmanager:opamp/agent-ca',
        heartbeatIdleSeconds: '300',
        heartbeatPendingSeconds: 10,
      }).props,
    ).toEqual({
      settings: {
        OPAMP_PUBLIC_URL: 'https://opamp.example.com/v1/opamp',
        OPAMP_CSR_CA: 'secretsmanager:opamp/agent-ca',
        OPAMP_HEARTBEAT_IDLE_SECONDS: '300',
        OPAMP_HEARTBEAT_PENDING_SECONDS: '10',
      },
    });
  });

  it.each([
    [{ heartbeatIdleSeconds: '-1' }, /heartbeatIdleSeconds must be a whole number of seconds from 0 to 86400/],
    [{ heartbeatPendingSeconds: 'fast' }, /heartbeatPendingSeconds/],
    [{ publicUrl: '' }, /publicUrl must be a non-empty string/],
    [{ destroyOnRemoval: 'yes' }, /destroyOnRemoval must be true or false/],
    [{ opampReservedConcurrency: '0' }, /opampReservedConcurrency must be a whole number of at least 1, or none/],
    [{ opampReservedConcurrency: '2.5' }, /opampReservedConcurrency/],
    [{ logRetentionDays: '10' }, /logRetentionDays must be one of 1, 3, 5, 7, 14, 30/],
    [{ stackName: '' }, /stackName must be a non-empty string/],
    [{ auditRetentionDays: '0' }, /auditRetentionDays must be a whole number of days from 1 to 3650/],
    [{ rolloutEvaluationMinutes: '0' }, /rolloutEvaluationMinutes must be a whole number of minutes from 1 to 1440/],
    [{ rolloutEvaluationMinutes: '1.5' }, /rolloutEvaluationMinutes must be a whole number of minutes/],
    [{ rolloutEvaluationMinutes: 1441 }, /rolloutEvaluationMinutes must be a whole number of minutes from 1 to 1440/],
    [{ rolloutEvaluationMinutes: 'often' }, /rolloutEvaluationMinutes/],
    [
      { destroyOnRemovel: 'true' },
      /unknown context destroyOnRemovel; the known keys are stackName, destroyOnRemoval, .*heartbeatPendingSeconds, (auditRetentionDays, rolloutEvaluationMinutes|rolloutEvaluationMinutes, auditRetentionDays)$/,
    ],
    [{ tracing: 'true', logRetension: '7', stackname: 'X' }, /unknown context logRetension, stackname;/],
  ])('rejects %j', (context, message) => {
    expect(() => settings(context)).toThrow(ContextError);
    expect(() => settings(context)).toThrow(message);
  });

  it("leaves CDK's own context keys alone", () => {
    expect(settings({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:version-reporting': false, 'acknowledged-issue-numbers': [32775] }).props).toEqual({});
  });
});

describe('the CDK app', () => {
  it('prints one line for a bad context value and exits 1, without a stack trace', () => {
    // Act
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'cdk/bin/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ destroyOnRemovel: 'true' }), CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')) },
      encoding: 'utf8',
    });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^opamp: unknown context destroyOnRemovel; the known keys are stackName, /)]);
  });
});
