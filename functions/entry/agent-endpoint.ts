import { v7 as uuidv7 } from 'uuid';
import { createApp } from '../http/app.js';
import type { RouteGroup } from '../http/fleet-api-routes.js';
import { AgentAuthenticator } from '../service/agent-tokens.js';
import { ConfigBodyCache } from '../service/config-bodies.js';
import { FleetStateCache } from '../service/fleet-cache.js';
import { PollService } from '../service/poll-service.js';
import { PresenceBatcher } from '../service/presence-batcher.js';
import { CertificateIssuer } from '../service/certificate-issuer.js';
import { CertificateResolver } from '../service/certificate-resolver.js';
import { SecretResolver } from '../service/secret-resolver.js';
import type { WiringOptions } from './stores.js';

/**
 * The agent endpoint: POST /v1/opamp and GET /healthz, with the poll service
 * and the per-instance caches it uses. This module loads nothing of the fleet
 * API or the bucket ingest, which keeps the public function small.
 */
export function createAgentEndpoint(options: WiringOptions & { newInstanceUid?: () => string; extraRoutes?: RouteGroup[] }) {
  const { config, stores, telemetry } = options;
  const now = options.now ?? Date.now;
  const fleet = new FleetStateCache(stores.fleet, now, config.fleetRevalidateMs, telemetry);
  const configBodies = new ConfigBodyCache(stores.objects, config.configCacheBytes, stores.stateObjects);
  // The token cache also serves deliverable tokens to rotation offers, whether or not agents must authenticate.
  const tokens = new AgentAuthenticator(stores.tokens, now, config.fleetRevalidateMs, telemetry);
  const agentAuth = config.agentAuth === 'token' ? tokens : undefined;
  const certificates = new CertificateResolver({
    objects: stores.objects,
    secrets: stores.secrets,
    readFile: options.readLocalFile,
    now,
    refreshMs: config.certificateRefreshMs,
    telemetry,
  });
  const secrets = new SecretResolver({
    secrets: stores.secrets,
    prefix: config.secretPrefix,
    readFile: options.readLocalFile,
    env: options.localEnv,
    now,
    refreshMs: config.secretRefreshMs,
    telemetry,
  });
  const issuer = config.csr
    ? new CertificateIssuer({ caRef: config.csr.caRef, resolver: certificates, now, validityMs: config.csr.validityMs, requireInstanceUid: config.csr.requireInstanceUid, telemetry })
    : undefined;
  const presence = new PresenceBatcher({ store: stores.presence, now, telemetry, ...config.presence });
  const polls = new PollService({
    agents: stores.agents,
    now,
    newInstanceUid: options.newInstanceUid ?? (() => uuidv7()),
    options: config.core,
    fleet,
    tokens: tokens.revalidation,
    configBodies,
    urlSigner: stores.signer,
    publicUrl: config.publicUrl,
    deliverableToken: (name) => tokens.deliverableToken(name),
    replacementToken: (name) => tokens.replacementFor(name),
    certificates,
    secrets,
    issuer,
    renewAtFraction: config.csr?.renewAtFraction,
    certificateExpiryWarningMs: config.certificateExpiryWarningMs,
    presence,
  });
  const app = createApp({ agents: stores.agents, polls, agentAuth, routes: options.extraRoutes, limits: config.limits, deadlines: config.deadlines, telemetry });
  return { app, polls, fleet, configBodies, agentAuth, presence };
}
