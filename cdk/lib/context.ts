import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import type { OpampStackProps } from './opamp-stack.js';

export const DEFAULT_STACK_NAME = 'OpampStack';

/** The longest rollout evaluation interval: once a day. */
export const MAX_EVALUATION_MINUTES = 1440;

/** The context keys read below; any other plain key is taken for a misspelling. */
export const CONTEXT_KEYS = [
  'stackName',
  'destroyOnRemoval',
  'opampReservedConcurrency',
  'logRetentionDays',
  'tracing',
  'alarmTopicArn',
  'publicUrl',
  'csrCa',
  'heartbeatIdleSeconds',
  'heartbeatPendingSeconds',
  'auditRetentionDays',
  'rolloutEvaluationMinutes',
] as const;

/** A context value the stack cannot be built from; the app prints its message alone, without a stack trace. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

export interface StackSettings {
  readonly stackName: string;
  readonly props: OpampStackProps;
}

/**
 * Stack settings from CDK context (`cdk deploy -c key=value`, or cdk.json):
 *
 *   stackName                 OpampStack
 *   destroyOnRemoval          false      true deletes table, bucket and logs with the stack
 *   opampReservedConcurrency  100        a number, or `none` to reserve nothing
 *   logRetentionDays          30         one of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, ...)
 *   tracing                   false      X-Ray active tracing
 *   alarmTopicArn             (none)     SNS topic the alarms notify
 *   publicUrl                 (none)     the agent endpoint's URL when agents reach it by another name
 *                                        (a custom domain); offered to agents as their OpAMP endpoint
 *   csrCa                     (none)     where the CA that signs agents' CSRs is kept, e.g.
 *                                        secretsmanager:opamp/agent-ca (turns the CSR flow on)
 *   heartbeatIdleSeconds      60         poll interval asked of idle agents (0: do not steer)
 *   heartbeatPendingSeconds   15         poll interval while something is pending for an agent
 *   auditRetentionDays        90         how long audit entries are kept (1 to 3650 days)
 *   rolloutEvaluationMinutes  1          how often the scheduled function moves staged rollouts along
 *                                        (1 to 1440 minutes)
 */
export function settingsFromContext(node: Node): StackSettings {
  // CDK's own keys (feature flags, aws:cdk:..., lookups) carry a colon or start with @, save the one
  // `cdk acknowledge` writes; a plain key not known here would be ignored silently and deploy something
  // other than was asked.
  const known: readonly string[] = [...CONTEXT_KEYS, 'acknowledged-issue-numbers'];
  const unknown = Object.keys(node.getAllContext()).filter((k) => !k.includes(':') && !k.startsWith('@') && !known.includes(k));
  if (unknown.length > 0) throw new ContextError(`unknown context ${unknown.join(', ')}; the known keys are ${CONTEXT_KEYS.join(', ')}`);
  const get = (key: string): unknown => node.tryGetContext(key);
  const stackName = text(get('stackName'), 'stackName') ?? DEFAULT_STACK_NAME;
  const destroyOnRemoval = flag(get('destroyOnRemoval'), 'destroyOnRemoval');
  const tracing = flag(get('tracing'), 'tracing');
  const reserved = get('opampReservedConcurrency');
  const retention = get('logRetentionDays');
  const alarmTopicArn = text(get('alarmTopicArn'), 'alarmTopicArn');
  const evaluation = get('rolloutEvaluationMinutes');
  const settings: Record<string, string> = {};
  const publicUrl = text(get('publicUrl'), 'publicUrl');
  if (publicUrl !== undefined) settings.OPAMP_PUBLIC_URL = publicUrl;
  const csrCa = text(get('csrCa'), 'csrCa');
  if (csrCa !== undefined) settings.OPAMP_CSR_CA = csrCa;
  for (const [key, env] of [
    ['heartbeatIdleSeconds', 'OPAMP_HEARTBEAT_IDLE_SECONDS'],
    ['heartbeatPendingSeconds', 'OPAMP_HEARTBEAT_PENDING_SECONDS'],
  ] as const) {
    const value = get(key);
    if (value !== undefined) settings[env] = String(seconds(value, key));
  }
  const auditRetention = get('auditRetentionDays');
  const props: OpampStackProps = {
    ...(auditRetention !== undefined ? { auditRetentionDays: days(auditRetention, 'auditRetentionDays') } : {}),
    ...(destroyOnRemoval !== undefined ? { destroyOnRemoval } : {}),
    ...(tracing !== undefined ? { tracing } : {}),
    ...(reserved !== undefined ? { opampReservedConcurrency: reserved === 'none' || reserved === false ? false : count(reserved, 'opampReservedConcurrency') } : {}),
    ...(retention !== undefined ? { logRetention: retentionDays(retention) } : {}),
    ...(alarmTopicArn !== undefined ? { alarmTopicArn } : {}),
    ...(evaluation !== undefined ? { rolloutEvaluationMinutes: minutes(evaluation, 'rolloutEvaluationMinutes') } : {}),
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
  };
  return { stackName, props };
}

function flag(value: unknown, key: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(`context ${key} must be true or false, not ${JSON.stringify(value)}`);
}

function text(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ContextError(`context ${key} must be a non-empty string`);
  return value;
}

function count(value: unknown, key: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ContextError(`context ${key} must be a whole number of at least 1, or none`);
  return n;
}

function seconds(value: unknown, key: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 86_400) throw new ContextError(`context ${key} must be a whole number of seconds from 0 to 86400`);
  return n;
}

function days(value: unknown, key: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new ContextError(`context ${key} must be a whole number of days from 1 to 3650`);
  return n;
}

function minutes(value: unknown, key: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVALUATION_MINUTES) throw new ContextError(`context ${key} must be a whole number of minutes from 1 to ${MAX_EVALUATION_MINUTES}`);
  return n;
}

function retentionDays(value: unknown): RetentionDays {
  const n = typeof value === 'number' ? value : Number(value);
  // Never INFINITE: cdk-nag requires a retention.
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE);
  if (!allowed.includes(n)) throw new ContextError(`context logRetentionDays must be one of ${allowed.join(', ')}`);
  return n as RetentionDays;
}
