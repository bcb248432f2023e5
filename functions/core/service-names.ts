/**
 * Names the deployed stack and the functions must agree on. The CDK stack
 * imports them from here, so a rename cannot leave one side behind: a metric
 * published under another namespace or service would no longer reach its
 * alarm, and the CLI would no longer find the fleet API's stack output.
 */

/** Powertools service names: the `service` dimension of every metric and log line. */
export const SERVICE_NAMES = { opamp: 'opamp', api: 'opamp-api', ingest: 'opamp-ingest', rollouts: 'opamp-rollouts', local: 'opamp-local' } as const;

/** The CloudWatch namespace the functions publish their metrics to (EMF). */
export const METRICS_NAMESPACE = 'OpAMP';

/** The stack output holding the fleet API's base URL; `opampctl --stack` reads it. */
export const FLEET_API_OUTPUT = 'FleetApiUrl';
