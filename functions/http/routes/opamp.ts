import { Hono } from 'hono';
import { contentId } from '../../core/canonical-hash.js';
import type { PollEvent } from '../../core/poll-types.js';
import { instanceUidToText } from '../../core/instance-uid.js';
import type { Telemetry } from '../../observability/telemetry.js';
import type { PollService } from '../../service/poll-service.js';
import { decodeAgentToServer, encodeServerToAgent, OPAMP_INSTANCE_UID_HEADER } from '../codec.js';
import { errorResponse } from '../error-responses.js';
import { agentAuth } from '../agent-auth.js';
import type { AgentAuthVariables } from '../agent-auth.js';
import { protobufBody } from '../request-body.js';
import type { AgentAuthenticator } from '../../service/agent-tokens.js';
import type { ProtobufBodyVariables } from '../request-body.js';
import { protobufResponse } from '../protobuf-response.js';

export interface OpampRouteOptions {
  polls: PollService;
  /** When set, agents must present a valid bearer token. */
  auth?: AgentAuthenticator | undefined;
  maxRequestBytes: number;
  gzipMinBytes: number;
  retryAfterSeconds: number;
  telemetry: Telemetry;
}

/** POST /v1/opamp: one AgentToServer in, one ServerToAgent out. */
export function opampRoute(options: OpampRouteOptions): Hono<{ Variables: ProtobufBodyVariables & AgentAuthVariables }> {
  const { polls, telemetry } = options;
  const route = new Hono<{ Variables: ProtobufBodyVariables & AgentAuthVariables }>();

  if (options.auth) route.post('/', agentAuth(options.auth));
  route.post('/', protobufBody({ maxBytes: options.maxRequestBytes }), async (c) => {
    const body = c.var.protobufBody;
    const message = decodeAgentToServer(body, c.req.header(OPAMP_INSTANCE_UID_HEADER));
    telemetry.annotate?.({ instanceUid: instanceUidToText(message.instanceUid) });
    try {
      // The body's digest only matters for a message that is written or retried.
      const outcome = await polls.poll(message, () => contentId(body), {
        authorize: c.var.verifyAgentToken,
        body,
        request: {
          url: c.req.url,
          authorization: c.req.header('authorization'),
          tokenName: () => c.var.agentToken,
        },
      });
      telemetry.count('Polls');
      for (const event of outcome.events) telemetry.count(EVENT_METRICS[event]);
      if (outcome.conflicts > 0) telemetry.count('WriteConflicts', outcome.conflicts);
      // Polls from agents holding a certificate that expires soon: the alarm fires on any.
      if (outcome.expiringCertificates > 0) telemetry.count('CertificatesExpiringSoon', outcome.expiringCertificates);
      if (outcome.events.some((e) => LOGGED_EVENTS.has(e) && !outcome.quietEvents.includes(e))) {
        telemetry.logger.info('agent state event', { instanceUid: outcome.instanceUid, events: outcome.events });
      } else {
        telemetry.logger.debug('poll', { instanceUid: outcome.instanceUid, events: outcome.events });
      }
      return protobufResponse(c, encodeServerToAgent(outcome.reply), options);
    } catch (error) {
      return errorResponse(c, error, options, message.instanceUid);
    }
  });

  return route;
}

const EVENT_METRICS = {
  'new-agent': 'NewAgents',
  duplicate: 'DuplicateMessages',
  'sequence-gap': 'SequenceGaps',
  'sequence-reset': 'SequenceResets',
  'full-state-requested': 'FullStateRequests',
  disconnected: 'Disconnects',
  'instance-uid-assigned': 'InstanceUidsAssigned',
  'status-changed': 'StatusChanges',
  'config-offered': 'ConfigsSent',
  'config-failed': 'ConfigFailures',
  'config-rolled-back': 'ConfigRollbacks',
  'packages-offered': 'PackagesSent',
  'command-delivered': 'CommandsDelivered',
  'command-expired': 'CommandsExpired',
  'message-delivered': 'CustomMessagesSent',
  'message-received': 'CustomMessagesReceived',
  'components-requested': 'ComponentsRequests',
  'settings-offered': 'SettingsSent',
  'certificate-issued': 'CertificatesIssued',
  'duplicate-uid': 'DuplicateInstanceUids',
} as const satisfies Record<PollEvent, string>;

/** Events worth a line at the default level; a steady heartbeat logs nothing. */
const LOGGED_EVENTS = new Set<PollEvent>([
  'new-agent',
  'sequence-gap',
  'sequence-reset',
  'disconnected',
  'instance-uid-assigned',
  'config-failed',
  'config-rolled-back',
  'command-delivered',
  'command-expired',
  'duplicate-uid',
  'certificate-issued',
]);
