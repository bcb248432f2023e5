import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does with a request it matches:
 * - pass: forwards it and relays the answer;
 * - throttle: answers as the service does when it throttles (nothing forwarded);
 * - error: answers 500 (nothing forwarded);
 * - hang: never answers (nothing forwarded);
 * - reset: drops the connection with a TCP reset (nothing forwarded);
 * - broken-body: forwards it (so a write does happen), then answers 200 with a body cut short.
 */
export type Fault = 'pass' | 'throttle' | 'error' | 'hang' | 'reset' | 'broken-body';

export const FAULTS: readonly Fault[] = ['throttle', 'error', 'hang', 'reset', 'broken-body'];

export interface FaultProxy {
  /** Point SDK clients here. */
  endpoint: string;
  /**
   * Applies `fault` to every request whose operation matches: the DynamoDB
   * action (`GetItem`, `PutItem`, ...) or, for S3, `METHOD /bucket/key`. The
   * latest rule that matches wins.
   */
  inject(operation: string | RegExp, fault: Fault): void;
  /** Removes every rule and ends the connections held by `hang`. */
  clear(): void;
  /** Operations seen so far, in order, with what was done to them. */
  readonly log: Array<{ operation: string; fault: Fault }>;
  close(): Promise<void>;
}

/** A small HTTP proxy in front of dynalite or s3rver that injects faults per operation. */
export async function startFaultProxy(target: string, service: 'dynamodb' | 's3'): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: Array<{ operation: string | RegExp; fault: Fault }> = [];
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const log: FaultProxy['log'] = [];

  const operationOf = (req: IncomingMessage): string => {
    if (service === 'dynamodb')
      return (
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? ''
      );
    return `${req.method} ${decodeURIComponent(new URL(req.url ?? '/', 'http://proxy').pathname)}`;
  };

  const faultFor = (operation: string): Fault => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i]!;
      if (typeof rule.operation === 'string' ? rule.operation === operation : rule.operation.test(operation)) return rule.fault;
    }
    return 'pass';
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = operationOf(req);
      const fault = faultFor(operation);
      log.push({ operation, fault });
      void answer(req, res, Buffer.concat(chunks), fault).catch(() => res.destroy());
    });
  });

  const answer = async (req: IncomingMessage, res: ServerResponse, body: Buffer, fault: Fault): Promise<void> => {
    switch (fault) {
      case 'pass': {
        const reply = await forward(req, body);
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
        return;
      }
      case 'throttle':
        if (service === 'dynamodb') {
          dynamoError(res, 400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput.');
        } else {
          s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
        }
        return;
      case 'error':
        if (service === 'dynamodb') dynamoError(res, 500, 'InternalServerError', 'Internal server error');
        else s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
        return;
      case 'hang':
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'broken-body': {
        const reply = await forward(req, body);
        const headers = { ...reply.headers };
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        if (service === 'dynamodb') {
          // Valid HTTP, but JSON cut in the middle.
          const cut = reply.body.subarray(0, Math.max(1, Math.floor(reply.body.length / 2)));
          res.writeHead(200, { ...headers, 'content-length': String(cut.length) });
          res.end(cut);
        } else {
          // Promises more bytes than it sends, then closes: the body ends early.
          res.writeHead(200, { ...headers, 'content-length': String(Math.max(reply.body.length, 16)) });
          res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)));
          setTimeout(() => res.destroy(), 10);
        }
        return;
      }
    }
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  const endHeld = () => {
    for (const res of held) res.destroy();
    held.clear();
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    inject(operation, fault) {
      rules.push({ operation, fault });
    },
    clear() {
      rules.length = 0;
      endHeld();
    },
    async close() {
      endHeld();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function dynamoError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(body)), 'x-amzn-requestid': 'fault-proxy' });
  res.end(body);
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), 'x-amz-request-id': 'fault-proxy' });
  res.end(body);
}
