import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Telemetry } from './telemetry.js';

export const METRICS_NAMESPACE = 'OpAMP';

export interface Powertools {
  logger: Logger;
  metrics: Metrics;
  telemetry: Telemetry;
}

/**
 * Structured JSON logs and CloudWatch metrics in EMF (written to the log
 * stream, so no PutMetricData call is made per request). Rejections carry
 * their reason as a dimension.
 */
export function createPowertools(serviceName: string): Powertools {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const telemetry: Telemetry = {
    logger,
    count(metric, value = 1) {
      const rejected = /^Rejected\.(.+)$/.exec(metric);
      if (rejected) {
        const single = metrics.singleMetric();
        single.addDimension('reason', rejected[1]!);
        single.addMetric('RejectedRequests', MetricUnit.Count, value);
        return;
      }
      metrics.addMetric(metric, MetricUnit.Count, value);
    },
    annotate(keys) {
      logger.appendKeys(keys);
    },
  };
  return { logger, metrics, telemetry };
}
