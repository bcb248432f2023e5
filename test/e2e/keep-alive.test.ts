import { request, Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { toBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { GO_AGENT, runGoAgent } from '../support/go-agent.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { fullReport, newUidBytes } from '../support/messages.js';

/**
 * A client that keeps its one connection until it sees the server close it,
 * whatever the server's Keep-Alive header says, as Go's HTTP client does:
 * it is the client that sends into a connection the server is closing.
 */
class OneConnection extends Agent {
  constructor() {
    super({ keepAlive: true, maxSockets: 1 });
  }

  // Node's own keepSocketAlive shortens the socket's life to the server's hint; this one keeps it.
  // (@types/node declares it void; Node reads the boolean it returns.)
  override keepSocketAlive(socket: Duplex): boolean {
    (socket as Socket).setKeepAlive(true);
    (socket as Socket).setTimeout(0);
    return true;
  }
}

interface Poll {
  status: number;
  keepAlive: string | undefined;
  reused: boolean;
  socket: Socket;
}

function poll(agent: Agent, url: string, seq: bigint, uid: Uint8Array): Promise<Poll> {
  const body = toBinary(AgentToServerSchema, fullReport(uid, seq));
  return new Promise((done, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength } }, (res) => {
      res.resume();
      res.once('end', () => done({ status: res.statusCode!, keepAlive: res.headers['keep-alive'] as string | undefined, reused: req.reusedSocket, socket: req.socket as Socket }));
    });
    req.once('error', fail);
    req.end(body);
  });
}

const advertisedMs = (header: string | undefined) => Number(/timeout=(\d+)/.exec(header ?? '')?.[1]) * 1000;

describe('idle agent connections to the local backend', () => {
  let backend: TestBackend | undefined;
  const agent = new OneConnection();
  afterEach(async () => {
    agent.destroy();
    await backend?.close();
  });

  it('stay open longer than any poll interval the server asks for, so a poll every 6 s reuses one connection', async () => {
    backend = await startTestBackend();
    const uid = newUidBytes();
    const { idleSeconds, pendingSeconds } = loadConfig({}).core.settings.heartbeat;

    const first = await poll(agent, backend.opampUrl, 0n, uid);
    await sleep(6_000);
    const second = await poll(agent, backend.opampUrl, 1n, uid);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(advertisedMs(first.keepAlive)).toBeGreaterThan(Math.max(idleSeconds, pendingSeconds) * 1000);
    expect(second.reused).toBe(true);
  });

  it('are answered up to the advertised timeout and closed no sooner', async () => {
    backend = await startTestBackend({}, undefined, { idleConnectionMs: 2_000 });
    const uid = newUidBytes();

    const first = await poll(agent, backend.opampUrl, 0n, uid);
    const timeoutMs = advertisedMs(first.keepAlive);
    await sleep(timeoutMs - 100);
    const second = await poll(agent, backend.opampUrl, 1n, uid);
    const idleSince = Date.now();
    await new Promise((closed) => second.socket.once('close', closed));
    const closedAfterMs = Date.now() - idleSince;

    expect(timeoutMs).toBe(2_000);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.reused).toBe(true);
    expect(closedAfterMs).toBeGreaterThanOrEqual(timeoutMs - 20);
  });

  it.skipIf(!GO_AGENT)('serve the opamp-go client polling every 6 s without a transport error (needs the opamp-go test agent)', async () => {
    backend = await startTestBackend();

    const events = await runGoAgent(['-endpoint', backend.opampUrl, '-poll', '6s', '-duration', '8s'], 30_000);

    const responses = events.filter((e) => e.event === 'wire_response') as unknown as Array<{ http_status: number; conn: { reused: boolean } }>;
    expect(events.filter((e) => e.event === 'wire_error' || e.event === 'lib_error')).toEqual([]);
    expect(responses.length).toBeGreaterThanOrEqual(2);
    expect(responses.map((r) => r.http_status)).toEqual(responses.map(() => 200));
    // Every poll after the first went over the first poll's connection.
    expect(responses.slice(1).map((r) => r.conn.reused)).toEqual(responses.slice(1).map(() => true));
  });
});
