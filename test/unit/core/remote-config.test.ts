import { describe, expect, it } from 'vitest';
import { RemoteConfigStatuses } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ReportedApplyStatus } from '../../../functions/core/agent-record.js';
import type { ConfigMeta } from '../../../functions/core/fleet.js';
import { configRolloutState, configToOffer, noteRemoteConfigStatus, recordOffer } from '../../../functions/core/remote-config.js';
import type { ConfigRolloutState, DeliveryInput, RemoteConfigOffer } from '../../../functions/core/remote-config.js';
import type { ConfigTarget } from '../../../functions/core/targeting.js';
import { ACCEPTS_ONLY, APPLIED, APPLYING, FAILED, FULL_CAPS, NO_ACCEPT, POLICY, config, file, offerOf, reported, target } from './fleet-fixtures.js';
import { MINUTE, SECOND, T0 } from './fixtures.js';

const HOUR = 60 * MINUTE;

const DESIRED = config('checkout', [file('checkout', 'collector.yaml', 'v2')]);
const PREVIOUS = config('checkout', [file('checkout', 'collector.yaml', 'v1')]);
const EMPTY: ConfigMeta = { ...config('empty', []), files: [] };
const RESEND = POLICY.resendAfterMs;

function delivery(overrides: Partial<DeliveryInput>): DeliveryInput {
  return { capabilities: FULL_CAPS, reported: undefined, offer: undefined, target: target(DESIRED), now: T0, policy: POLICY, ...overrides };
}

describe('configToOffer', () => {
  const cases: Array<[string, Partial<DeliveryInput>, ConfigMeta | undefined]> = [
    ['never offered, nothing reported → offered', {}, DESIRED],
    ['agent reports the previous hash applied → the new hash is offered', { reported: reported(PREVIOUS.hash, APPLIED) }, DESIRED],
    ['the last offer was of another hash → offered', { offer: offerOf(PREVIOUS, { acknowledged: true }), reported: reported(PREVIOUS.hash, APPLIED) }, DESIRED],
    ['the last offer was of another hash, just now → offered (a new hash waits for nothing)', { offer: offerOf(PREVIOUS, { offeredAt: T0 }) }, DESIRED],
    ['reported hash equal, APPLIED → nothing', { reported: reported(DESIRED.hash, APPLIED) }, undefined],
    ['reported hash equal, APPLYING → nothing', { reported: reported(DESIRED.hash, APPLYING) }, undefined],
    ['reported hash equal, UNSET → nothing', { reported: reported(DESIRED.hash, RemoteConfigStatuses.RemoteConfigStatuses_UNSET) }, undefined],
    ['reported hash equal though never offered by us → nothing', { reported: reported(DESIRED.hash, APPLIED), offer: undefined }, undefined],
    ['FAILED with the desired hash → nothing', { reported: reported(DESIRED.hash, FAILED, 'bad'), offer: offerOf(DESIRED, { acknowledged: true }) }, undefined],
    [
      'FAILED with the desired hash, long after resendAfterMs → nothing',
      {
        reported: reported(DESIRED.hash, FAILED, 'bad'),
        offer: offerOf(DESIRED, { acknowledged: true }),
        now: T0 + 100 * RESEND,
      },
      undefined,
    ],
    ['FAILED with the desired hash and no offer on record → nothing', { reported: reported(DESIRED.hash, FAILED, 'bad'), now: T0 + 100 * RESEND }, undefined],
    ['offered, not reported, before resendAfterMs → nothing', { offer: offerOf(DESIRED), now: T0 + RESEND - 1 }, undefined],
    ['offered, not reported, at resendAfterMs → offered again', { offer: offerOf(DESIRED), now: T0 + RESEND }, DESIRED],
    ['offered twice, after resendAfterMs → offered a third time', { offer: offerOf(DESIRED, { attempts: 2 }), now: T0 + RESEND }, DESIRED],
    ['offered maxAttempts times, long after → nothing', { offer: offerOf(DESIRED, { attempts: POLICY.maxAttempts }), now: T0 + 100 * RESEND }, undefined],
    [
      'offered, agent still reports the previous hash APPLIED, after resend → offered again',
      {
        offer: offerOf(DESIRED),
        reported: reported(PREVIOUS.hash, APPLIED),
        now: T0 + RESEND,
      },
      DESIRED,
    ],
    ['agent without ReportsRemoteConfig, never offered → offered', { capabilities: ACCEPTS_ONLY }, DESIRED],
    [
      'agent without ReportsRemoteConfig, offered once → nothing, even much later',
      {
        capabilities: ACCEPTS_ONLY,
        offer: offerOf(DESIRED),
        now: T0 + 100 * RESEND,
      },
      undefined,
    ],
    [
      'agent rolled back from the desired hash → nothing, even much later',
      {
        offer: offerOf(DESIRED, { acknowledged: true, rolledBackAt: T0 + SECOND, rolledBackTo: PREVIOUS.hash }),
        reported: reported(PREVIOUS.hash, APPLIED),
        now: T0 + 100 * RESEND,
      },
      undefined,
    ],
    ['agent without AcceptsRemoteConfig → nothing', { capabilities: NO_ACCEPT }, undefined],
    ['agent with no capabilities at all → nothing', { capabilities: 0n }, undefined],
    ['the desired hash is withheld → nothing', { withheld: new Set([DESIRED.hash]) }, undefined],
    ['another hash is withheld → offered', { withheld: new Set([PREVIOUS.hash]) }, DESIRED],
    ['the desired configuration has no files → nothing', { target: target(EMPTY) }, undefined],
    ['the assigned configuration does not exist → nothing', { target: { configName: 'missing', via: 'route', config: undefined } }, undefined],
    ['no target → nothing', { target: undefined }, undefined],
  ];

  it.each(cases)('%s', (_name, overrides, expected) => {
    // Prepare
    const input = delivery(overrides);

    // Act
    const offered = configToOffer(input);

    // Assess
    expect(offered).toBe(expected);
  });

  it.each<[string, bigint, number]>([
    ['an agent that reports remote config status', FULL_CAPS, POLICY.maxAttempts],
    ['an agent that does not report remote config status', ACCEPTS_ONLY, 1],
  ])('offers a hash that %s never takes at most so often, spaced by resendAfterMs', (_name, capabilities, expectedOffers) => {
    // Prepare: the agent polls every 30 s for a day and never reports on the offer.
    let offer: RemoteConfigOffer | undefined;
    const offeredAt: number[] = [];

    // Act
    for (let now = T0; now < T0 + 24 * HOUR; now += 30 * SECOND) {
      const offered = configToOffer(delivery({ capabilities, offer, now, reported: reported(PREVIOUS.hash, APPLIED) }));
      if (offered) {
        offer = recordOffer(offer, offered, now, BigInt(now));
        offeredAt.push(now);
      }
    }

    // Assess
    expect(offeredAt).toHaveLength(expectedOffers);
    for (let i = 1; i < offeredAt.length; i++) expect(offeredAt[i]! - offeredAt[i - 1]!).toBeGreaterThanOrEqual(RESEND);
    expect(offer?.attempts).toBe(expectedOffers);
  });

  it('offers a new desired hash even after the previous one was offered maxAttempts times', () => {
    // Prepare
    const exhausted = offerOf(PREVIOUS, { attempts: POLICY.maxAttempts });

    // Act
    const offered = configToOffer(delivery({ offer: exhausted, now: T0 + SECOND }));

    // Assess
    expect(offered).toBe(DESIRED);
  });
});

describe('noteRemoteConfigStatus', () => {
  const NOW = T0 + MINUTE;

  it('leaves an absent offer absent', () => {
    // Act / Assess
    expect(noteRemoteConfigStatus(undefined, reported(DESIRED.hash, APPLIED), NOW)).toBeUndefined();
  });

  it.each([APPLYING, APPLIED, FAILED])('marks the offer acknowledged when the agent reports the offered hash (status %i)', (status) => {
    // Prepare
    const offer = offerOf(DESIRED);

    // Act
    const next = noteRemoteConfigStatus(offer, reported(DESIRED.hash, status), NOW);

    // Assess
    expect(next).toEqual({ ...offer, acknowledged: true });
    expect(offer.acknowledged).toBe(false);
  });

  it.each<[string, RemoteConfigOffer, ReportedApplyStatus]>([
    ['an acknowledged offer reported again', offerOf(DESIRED, { acknowledged: true }), reported(DESIRED.hash, APPLIED)],
    ['an offer not yet taken, while the agent still runs the previous hash', offerOf(DESIRED), reported(PREVIOUS.hash, APPLIED)],
    ['an acknowledged offer, then APPLYING another hash', offerOf(DESIRED, { acknowledged: true }), reported(PREVIOUS.hash, APPLYING)],
    ['an acknowledged offer, then FAILED with another hash', offerOf(DESIRED, { acknowledged: true }), reported(PREVIOUS.hash, FAILED)],
    [
      'an offer already rolled back, then APPLIED with a third hash',
      offerOf(DESIRED, { acknowledged: true, rolledBackAt: T0, rolledBackTo: PREVIOUS.hash, rollbackMessage: 'first' }),
      reported('other', APPLIED),
    ],
    [
      'an offer already rolled back, then the offered hash reported',
      offerOf(DESIRED, { acknowledged: true, rolledBackAt: T0, rolledBackTo: PREVIOUS.hash, rollbackMessage: 'first' }),
      reported(DESIRED.hash, APPLIED),
    ],
  ])('returns the very same offer when nothing changes: %s', (_name, offer, status) => {
    // Act
    const next = noteRemoteConfigStatus(offer, status, NOW);

    // Assess
    expect(next).toBe(offer);
  });

  it.each<[string, string, string]>([
    ["with the agent's error message", 'new config did not start: port in use', 'new config did not start: port in use'],
    ['with a message of its own when the agent gave none', '', 'the agent took the configuration, then reported APPLIED with another one'],
  ])('records a rollback when an acknowledged offer is followed by APPLIED with another hash, %s', (_name, agentMessage, expectedMessage) => {
    // Prepare
    const offer = offerOf(DESIRED, { acknowledged: true });

    // Act
    const next = noteRemoteConfigStatus(offer, reported(PREVIOUS.hash, APPLIED, agentMessage), NOW);

    // Assess
    expect(next).toEqual({ ...offer, rolledBackAt: NOW, rolledBackTo: PREVIOUS.hash, rollbackMessage: expectedMessage });
  });
});

describe('recordOffer', () => {
  it('records a first offer: one attempt, not acknowledged, with time and sequence number', () => {
    // Act
    const offer = recordOffer(undefined, DESIRED, T0, 42n);

    // Assess
    expect(offer).toEqual({ hash: DESIRED.hash, name: 'checkout', offeredAt: T0, offeredSeq: 42n, attempts: 1, acknowledged: false });
  });

  it('counts a repeated offer of the same hash and keeps whether the agent acknowledged it', () => {
    // Prepare
    const previous = offerOf(DESIRED, { attempts: 2, acknowledged: true });

    // Act
    const offer = recordOffer(previous, DESIRED, T0 + RESEND, 43n);

    // Assess
    expect(offer).toEqual({ hash: DESIRED.hash, name: 'checkout', offeredAt: T0 + RESEND, offeredSeq: 43n, attempts: 3, acknowledged: true });
  });

  it('starts afresh for another hash, forgetting attempts, acknowledgement and rollback', () => {
    // Prepare
    const previous = offerOf(PREVIOUS, { attempts: 3, acknowledged: true, rolledBackAt: T0, rolledBackTo: 'x', rollbackMessage: 'm' });

    // Act
    const offer = recordOffer(previous, DESIRED, T0 + MINUTE, 44n);

    // Assess
    expect(offer).toEqual({ hash: DESIRED.hash, name: 'checkout', offeredAt: T0 + MINUTE, offeredSeq: 44n, attempts: 1, acknowledged: false });
  });
});

describe('configRolloutState', () => {
  const LATER = T0 + RESEND;
  type Case = { caps?: bigint; target?: ConfigTarget | undefined; reported?: ReportedApplyStatus; offer?: RemoteConfigOffer; now?: number };
  const cases: Array<[ConfigRolloutState, string, Case]> = [
    ['none', 'no target', { target: undefined }],
    ['none', 'assigned configuration missing', { target: { configName: 'missing', via: 'route', config: undefined } }],
    ['not-accepted', 'agent does not accept remote config', { caps: NO_ACCEPT, reported: reported(DESIRED.hash, APPLIED) }],
    ['not-accepted', 'agent does not accept remote config, never offered', { caps: NO_ACCEPT }],
    ['pending', 'never offered', {}],
    ['pending', 'only the previous hash was offered', { offer: offerOf(PREVIOUS, { acknowledged: true }), reported: reported(PREVIOUS.hash, APPLIED) }],
    ['offered', 'offered, no report', { offer: offerOf(DESIRED) }],
    ['offered', 'offered maxAttempts times, resend period not over', { offer: offerOf(DESIRED, { attempts: POLICY.maxAttempts }), now: LATER - 1 }],
    ['offered', 'agent without ReportsRemoteConfig, offered maxAttempts times long ago', { caps: ACCEPTS_ONLY, offer: offerOf(DESIRED, { attempts: POLICY.maxAttempts }), now: LATER * 2 }],
    ['applying', 'reported APPLYING with the desired hash', { offer: offerOf(DESIRED, { acknowledged: true }), reported: reported(DESIRED.hash, APPLYING) }],
    ['applied', 'reported APPLIED with the desired hash', { offer: offerOf(DESIRED, { acknowledged: true }), reported: reported(DESIRED.hash, APPLIED) }],
    ['applied', 'reported APPLIED with the desired hash, no offer on record', { reported: reported(DESIRED.hash, APPLIED) }],
    ['failed', 'reported FAILED with the desired hash', { offer: offerOf(DESIRED, { acknowledged: true }), reported: reported(DESIRED.hash, FAILED, 'bad') }],
    [
      'rolled-back',
      'took the desired hash, then APPLIED the previous one',
      { offer: offerOf(DESIRED, { acknowledged: true, rolledBackAt: T0, rolledBackTo: PREVIOUS.hash }), reported: reported(PREVIOUS.hash, APPLIED) },
    ],
    ['not-taken', 'offered maxAttempts times, resend period over', { offer: offerOf(DESIRED, { attempts: POLICY.maxAttempts }), now: LATER }],
  ];

  it.each(cases)('%s: %s', (expected, _name, c) => {
    // Act
    const state = configRolloutState(c.caps ?? FULL_CAPS, 'target' in c ? c.target : target(DESIRED), c.reported, c.offer, POLICY, c.now ?? T0);

    // Assess
    expect(state).toBe(expected);
  });
});

describe('a rollback, end to end through the delivery rules', () => {
  it('is never offered again and shows as rolled-back', () => {
    // Prepare: offered, the agent takes it (APPLYING with the offered hash) ...
    let offer = recordOffer(undefined, configToOffer(delivery({ reported: reported(PREVIOUS.hash, APPLIED) }))!, T0, 1n);
    offer = noteRemoteConfigStatus(offer, reported(DESIRED.hash, APPLYING), T0 + SECOND)!;

    // Act: ... then reports APPLIED with the previous hash.
    offer = noteRemoteConfigStatus(offer, reported(PREVIOUS.hash, APPLIED, 'health check failed'), T0 + 2 * SECOND)!;

    // Assess
    for (const now of [T0 + 3 * SECOND, T0 + RESEND, T0 + 100 * RESEND]) {
      expect(configToOffer(delivery({ offer, reported: reported(PREVIOUS.hash, APPLIED), now }))).toBeUndefined();
      expect(configRolloutState(FULL_CAPS, target(DESIRED), reported(PREVIOUS.hash, APPLIED), offer, POLICY, now)).toBe('rolled-back');
    }
    expect(offer).toMatchObject({ rolledBackAt: T0 + 2 * SECOND, rolledBackTo: PREVIOUS.hash, rollbackMessage: 'health check failed' });
  });
});
