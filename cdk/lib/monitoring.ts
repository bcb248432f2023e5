import { Duration } from 'aws-cdk-lib';
import { Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, Stats, TextWidget, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IAlarmAction, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/core/service-names.js';

const PERIOD = Duration.minutes(5);

/** The operations the functions call; the table's throttling and system-error alarms sum over them. */
const TABLE_OPERATIONS = [Operation.GET_ITEM, Operation.PUT_ITEM, Operation.UPDATE_ITEM, Operation.DELETE_ITEM, Operation.QUERY, Operation.SCAN, Operation.BATCH_WRITE_ITEM];

export interface MonitoredFunction {
  /** Short name used in alarm ids and widget titles, e.g. `Opamp`. */
  readonly name: string;
  readonly fn: IFunction;
}

export interface MonitoringProps {
  readonly functions: readonly MonitoredFunction[];
  readonly table: Table;
  /** Failed ingest invocations land here. */
  readonly ingestFailures: IQueue;
  /** The agent endpoint's Powertools service name (the `service` dimension of its metrics). */
  readonly opampServiceName: string;
  /**
   * The service names of the functions that run the rollout engine: whichever of them
   * observes a rollout's transition counts it. The first is the scheduled one, which
   * also counts the paused rollouts on every run.
   */
  readonly rolloutServiceNames: readonly [string, ...string[]];
  /** How often the scheduled function evaluates rollouts. */
  readonly rolloutEvaluationMinutes: number;
  readonly dashboardName: string;
  /** Where alarms notify, if anywhere. */
  readonly alarmAction?: IAlarmAction;
}

/**
 * Alarms on function errors and throttles, DynamoDB throttling and system
 * errors, and failed ingests; and one dashboard with the agent traffic.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    for (const { name, fn } of props.functions) {
      this.alarm(`${name}Errors`, fn.metricErrors({ period: PERIOD }), `${name} function: invocations that failed (an unhandled error or a timeout; answered 503s are not errors)`);
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period: PERIOD }), `${name} function: throttled invocations (reserved or account concurrency reached; agents get 429 and retry)`);
    }
    const tableThrottles = props.table.metricThrottledRequestsForOperations({ operations: TABLE_OPERATIONS, period: PERIOD });
    const tableSystemErrors = props.table.metricSystemErrorsForOperations({ operations: TABLE_OPERATIONS, period: PERIOD });
    this.alarm('TableThrottles', tableThrottles, 'DynamoDB throttled requests (agents get 503 with Retry-After)');
    this.alarm('TableSystemErrors', tableSystemErrors, 'DynamoDB system errors (HTTP 500 from DynamoDB)');
    const failedIngests = props.ingestFailures.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM });
    this.alarm('IngestFailures', failedIngests, 'Bucket events the ingest function gave up on: the table may not reflect the bucket; see the failure queue');
    // Counted on polls of agents holding a certificate that expires within OPAMP_CERTIFICATE_EXPIRY_WARNING_DAYS
    // (14 by default); an hour's period, since agents poll at most every few minutes when idle.
    const expiring = new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'CertificatesExpiringSoon',
      dimensionsMap: { service: props.opampServiceName },
      statistic: Stats.SUM,
      period: Duration.hours(1),
    });
    this.alarm('CertificatesExpiringSoon', expiring, 'Agents hold a certificate that expires soon (or expired): see opampctl certificates expiring');
    this.rolloutAlarms(props);
    if (props.alarmAction) for (const alarm of this.alarms) alarm.addAlarmAction(props.alarmAction);

    const app = (metricName: string, label: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: props.opampServiceName }, statistic: Stats.SUM, period: PERIOD, label });
    const perFunction = (title: string, metric: (fn: IFunction) => IMetric) => new GraphWidget({ title, width: 8, left: props.functions.map(({ name, fn }) => withLabel(metric(fn), name)) });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(new TextWidget({ markdown: '## OpAMP backend\nAgent traffic (namespace `OpAMP`), function health, table health.', width: 24, height: 2 }));
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Polls', width: 8, left: [app('Polls', 'Polls')], right: [app('NewAgents', 'New agents'), app('FullStateRequests', 'Full state requests')] }),
      new GraphWidget({
        title: 'Remote config',
        width: 8,
        left: [app('ConfigsSent', 'Configs sent'), app('ConfigFailures', 'Config failures'), app('WriteConflicts', 'Write conflicts')],
      }),
      new GraphWidget({
        title: 'Rejected requests by reason',
        width: 8,
        left: [
          new MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},reason,service} MetricName="RejectedRequests"', 'Sum', ${PERIOD.toSeconds()})`,
            label: '',
            period: PERIOD,
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      perFunction('Errors', (fn) => fn.metricErrors({ period: PERIOD })),
      perFunction('Duration p99 (ms)', (fn) => fn.metricDuration({ period: PERIOD, statistic: Stats.p(99) })),
      perFunction('Throttles', (fn) => fn.metricThrottles({ period: PERIOD })),
    );
    this.dashboard.addWidgets(
      perFunction('Concurrent executions (max)', (fn) => fn.metric('ConcurrentExecutions', { period: PERIOD, statistic: Stats.MAXIMUM })),
      // Two widgets: both expressions name their per-operation metrics alike.
      new GraphWidget({ title: 'DynamoDB throttled requests', width: 8, left: [withLabel(tableThrottles, 'Throttled requests')] }),
      new GraphWidget({ title: 'DynamoDB system errors', width: 8, left: [withLabel(tableSystemErrors, 'System errors')] }),
    );
    const rollouts = (metricName: string, label: string) => rolloutMetric(props.rolloutServiceNames[0], metricName, Stats.SUM, PERIOD).with({ label });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Rollouts',
        width: 24,
        left: [rollouts('RolloutStepStarted', 'Steps started'), rollouts('RolloutCompleted', 'Completed'), rollouts('RolloutPaused', 'Paused'), rollouts('RolloutRolledBack', 'Rolled back')],
        right: [rolloutMetric(props.rolloutServiceNames[0], 'RolloutsPaused', Stats.MAXIMUM, PERIOD).with({ label: 'Paused rollouts (max)' })],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'DynamoDB consumed capacity',
        width: 12,
        left: [props.table.metricConsumedReadCapacityUnits({ period: PERIOD, label: 'Read units' }), props.table.metricConsumedWriteCapacityUnits({ period: PERIOD, label: 'Write units' })],
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }

  /**
   * A rollout stopped: the transition (paused or rolled back, counted by whichever
   * function saw it), and, for as long as one stays paused, the count of paused
   * rollouts the scheduled function publishes on every run.
   */
  private rolloutAlarms(props: MonitoringProps): void {
    const transitions = props.rolloutServiceNames.flatMap((service) => ['RolloutPaused', 'RolloutRolledBack'].map((name) => rolloutMetric(service, name, Stats.SUM, PERIOD)));
    const usingMetrics = Object.fromEntries(transitions.map((metric, i) => [`m${i + 1}`, metric]));
    const stopped = new MathExpression({
      expression: Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(' + '),
      usingMetrics,
      period: PERIOD,
      label: 'Rollouts paused or rolled back',
    });
    this.alarm('RolloutStopped', stopped, 'A staged rollout paused or rolled back (its agents failed, went silent or turned unhealthy): see GET /api/v1/rollouts');
    // Published once per scheduled run: a period of at least 15 minutes and of at least one run.
    const held = Duration.minutes(Math.max(15, props.rolloutEvaluationMinutes));
    this.alarm(
      'RolloutsPaused',
      rolloutMetric(props.rolloutServiceNames[0], 'RolloutsPaused', Stats.MAXIMUM, held),
      'A staged rollout is paused and waits for an operator: resume, promote or abort it',
      {
        treatMissingData: TreatMissingData.IGNORE,
      },
    );
  }

  /** One alarm: fires when the metric is at least 1 in one period (five minutes unless the metric says otherwise). */
  private alarm(id: string, metric: IMetric, description: string, options: { treatMissingData?: TreatMissingData } = {}): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    this.alarms.push(alarm);
    return alarm;
  }
}

/** A metric a function counts through Powertools: the namespace, and the `service` dimension Powertools adds. */
function rolloutMetric(service: string, metricName: string, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period });
}

function withLabel(metric: IMetric, label: string): IMetric {
  return metric instanceof Metric || metric instanceof MathExpression ? metric.with({ label }) : metric;
}
