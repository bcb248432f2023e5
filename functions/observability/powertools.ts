import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../core/service-names.js';
import type { Telemetry } from './telemetry.js';

export interface Powertools {
  logger: Logger;
  metrics: Metrics;
  telemetry: Telemetry;
  /** Publishes the counted metrics if the flush interval has passed (call at the end of each invocation). */
  flushMetricsIfDue(): void;
  /** Publishes the counted metrics now. */
  flushMetrics(): void;
}

export interface PowertoolsOptions {
  /** Counts are summed in memory and published at most this often (default one minute). */
  metricsFlushIntervalMs?: number;
  now?: () => number;
}

/**
 * Structured JSON logs, and CloudWatch metrics in EMF (written to the log
 * stream, so no PutMetricData call is made per request).
 *
 * Counts are summed per function instance and written as one EMF document per
 * flush interval, not one per invocation: every byte written to the log is
 * paid as CloudWatch Logs ingestion, and a document per poll would cost more
 * than the poll itself. The counts of an instance that is shut down between
 * flushes are lost (at most one interval's worth). Rejections carry their
 * reason as a dimension.
 */
export function createPowertools(serviceName: string, options: PowertoolsOptions = {}): Powertools {
  const now = options.now ?? Date.now;
  const interval = options.metricsFlushIntervalMs ?? 60_000;
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const counts = new Map<string, number>();
  const rejections = new Map<string, number>();
  let flushedAt = now();

  const flushMetrics = () => {
    flushedAt = now();
    if (counts.size > 0) {
      for (const [name, value] of counts) metrics.addMetric(name, MetricUnit.Count, value);
      counts.clear();
      metrics.publishStoredMetrics();
    }
    for (const [reason, value] of rejections) {
      const single = metrics.singleMetric();
      single.addDimension('reason', reason);
      single.addMetric('RejectedRequests', MetricUnit.Count, value);
    }
    rejections.clear();
  };

  const telemetry: Telemetry = {
    logger,
    count(metric, value = 1) {
      const rejected = /^Rejected\.(.+)$/.exec(metric);
      if (rejected) rejections.set(rejected[1]!, (rejections.get(rejected[1]!) ?? 0) + value);
      else counts.set(metric, (counts.get(metric) ?? 0) + value);
    },
    annotate(keys) {
      logger.appendKeys(keys);
    },
  };
  return {
    logger,
    metrics,
    telemetry,
    flushMetrics,
    flushMetricsIfDue() {
      if (now() - flushedAt >= interval) flushMetrics();
    },
  };
}
