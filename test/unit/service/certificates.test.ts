import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import { EMPTY_FLEET } from '../../../functions/core/fleet.js';
import type { BucketCertificateMeta, FleetState } from '../../../functions/core/fleet.js';
import { certificateFingerprint } from '../../../functions/core/pem.js';
import { AgentToServerSchema, CertificateRequestSchema, ConnectionSettingsRequestSchema, OpAMPConnectionSettingsRequestSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { StoreUnavailableError } from '../../../functions/ports/errors.js';
import { CsrRejectedError } from '../../../functions/service/certificate-authority.js';
import { CertificateIssuer } from '../../../functions/service/certificate-issuer.js';
import { CertificateResolver } from '../../../functions/service/certificate-resolver.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { caps, fullReport } from '../../support/messages.js';
import { createCsrPem, createTestCa, verifyCertificateChain } from '../../support/x509-fixtures.js';
import type { TestCa } from '../../support/x509-fixtures.js';
import { MemoryObjectStore, sha256Hex } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const fileReader = (path: string) => readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));

let ca: TestCa;
let other: TestCa;
const dirs: string[] = [];
beforeAll(async () => {
  [ca, other] = await Promise.all([
    createTestCa({ subject: 'CN=Fleet CA', notBefore: new Date(Date.UTC(2020, 0, 1)) }),
    createTestCa({ subject: 'CN=Other', notBefore: new Date(Date.UTC(2020, 0, 1)) }),
  ]);
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function directory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'opamp-cert-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

/** Uploads a certificate folder and returns the fleet state the ingest would build for it. */
async function bucketFleet(objects: MemoryObjectStore, name: string, files: { cert: string; key?: string }): Promise<FleetState> {
  const meta: BucketCertificateMeta = { name, fingerprint: certificateFingerprint(files.cert)! };
  for (const role of ['cert', 'key'] as const) {
    const body = files[role];
    if (body === undefined) continue;
    const objectKey = `certificates/${name}/${role}.pem`;
    await objects.put(objectKey, body);
    meta[role] = { objectKey, sha256: sha256Hex(body) };
  }
  return { ...EMPTY_FLEET, generation: name, certificates: new Map([[name, meta]]), settings: new Map([['default', { ownLogs: { endpoint: 'https://o.example/v1/logs', certificate: name } }]]) };
}

describe('CertificateResolver', () => {
  it('reads bucket material once per recorded content, and again when the recorded hashes change', async () => {
    const objects = new MemoryObjectStore();
    const resolver = new CertificateResolver({ objects, now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY });
    const fleet = await bucketFleet(objects, 'client', { cert: ca.certPem, key: ca.keyPem });

    const first = (await resolver.lookup(fleet))('client');
    const reads = objects.gets.length;
    await resolver.lookup(fleet);
    const unchangedReads = objects.gets.length - reads;
    const renewed = await bucketFleet(objects, 'client', { cert: other.certPem, key: other.keyPem });
    const second = (await resolver.lookup(renewed))('client');

    expect(first).toEqual({ cert: ca.certPem, key: ca.keyPem, fingerprint: certificateFingerprint(ca.certPem), notAfter: expect.any(Number) });
    expect(reads).toBe(2);
    expect(unchangedReads).toBe(0);
    expect(second).toMatchObject({ fingerprint: certificateFingerprint(other.certPem) });
  });

  it('reports a folder the ingest rejected, one that does not exist, and a file changed since it was recorded (as temporary)', async () => {
    const objects = new MemoryObjectStore();
    const resolver = new CertificateResolver({ objects, now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY });
    const fleet = await bucketFleet(objects, 'client', { cert: ca.certPem });
    const rejected: FleetState = { ...fleet, certificates: new Map([['client', { name: 'client', error: 'key.pem does not match cert.pem' }]]) };
    await objects.put('certificates/client/cert.pem', other.certPem);

    expect(await resolver.resolve('client', rejected)).toEqual({ error: 'key.pem does not match cert.pem' });
    expect(await resolver.resolve('absent', fleet)).toEqual({ error: 'there is no certificates/absent/ folder in the bucket' });
    expect(await resolver.resolve('client', fleet)).toMatchObject({ temporary: true, error: expect.stringContaining('changed since it was recorded') });
    expect(await resolver.resolve('not a ref!', fleet)).toEqual({ error: '"not a ref!" is not a certificate reference' });
  });

  it('tries a bucket read that failed again after 30 s, though the recorded content did not change', async () => {
    let now = T0;
    const objects = new MemoryObjectStore();
    const resolver = new CertificateResolver({ objects, now: () => now, refreshMs: 60_000, telemetry: NO_TELEMETRY });
    const fleet = await bucketFleet(objects, 'client', { cert: ca.certPem });
    await objects.put('certificates/client/cert.pem', other.certPem);
    const failed = await resolver.resolve('client', fleet);
    await objects.put('certificates/client/cert.pem', ca.certPem);

    now += 29_999;
    const cached = await resolver.resolve('client', fleet);
    now += 1;
    const retried = await resolver.resolve('client', fleet);

    expect(failed).toMatchObject({ temporary: true });
    expect(cached).toBe(failed);
    expect(retried).toMatchObject({ fingerprint: certificateFingerprint(ca.certPem), notAfter: expect.any(Number) });
  });

  it('reads file: material only where a file reader is given (the local backend), and validates it', async () => {
    const good = directory({ 'cert.pem': ca.certPem, 'key.pem': ca.keyPem, 'ca.pem': other.certPem });
    const mismatched = directory({ 'cert.pem': ca.certPem, 'key.pem': other.keyPem });
    const empty = directory({});
    const local = new CertificateResolver({ readFile: fileReader, now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY });
    const lambda = new CertificateResolver({ now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY });

    expect(await local.resolve(`file:${good}`, EMPTY_FLEET)).toEqual({
      cert: ca.certPem,
      key: ca.keyPem,
      ca: other.certPem,
      fingerprint: certificateFingerprint(ca.certPem),
      notAfter: expect.any(Number),
    });
    expect(await local.resolve(`file:${mismatched}`, EMPTY_FLEET)).toMatchObject({ error: expect.stringMatching(/key/i) });
    expect(await local.resolve(`file:${empty}`, EMPTY_FLEET)).toMatchObject({ error: expect.stringContaining('cert.pem does not exist') });
    expect(await lambda.resolve(`file:${good}`, EMPTY_FLEET)).toMatchObject({ error: expect.stringContaining('only read by a local backend') });
  });
});

describe('CertificateIssuer', () => {
  const uid = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';
  const issuerFor = (caRef: string, readFile = fileReader) =>
    new CertificateIssuer({
      caRef,
      resolver: new CertificateResolver({ readFile, now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY }),
      now: () => T0,
      telemetry: NO_TELEMETRY,
    });

  it('signs with the CA it reads, for the agent uid', async () => {
    const issuer = issuerFor(`file:${directory({ 'cert.pem': ca.certPem, 'key.pem': ca.keyPem })}`);
    const csr = await createCsrPem({ subject: `CN=${uid}` });

    const issued = await issuer.issue(new TextEncoder().encode(csr), uid, EMPTY_FLEET);

    const verified = await verifyCertificateChain(issued.certPem, ca.certPem);
    expect(issued).toMatchObject({ caPem: ca.certPem, fingerprint: verified.fingerprint, issuedAt: T0 });
  });

  it('refuses to sign (BadRequest) with a CA that has no key or is not a CA, and asks for a retry when the CA cannot be read', async () => {
    const noKey = issuerFor(`file:${directory({ 'cert.pem': ca.certPem })}`);
    const leaf = await createTestCa({ isCa: false, notBefore: new Date(Date.UTC(2020, 0, 1)) });
    const notCa = issuerFor(`file:${directory({ 'cert.pem': leaf.certPem, 'key.pem': leaf.keyPem })}`);
    const unreadable = issuerFor('file:/ca', async () => {
      throw new Error('EIO: disk failure');
    });
    const csr = new TextEncoder().encode(await createCsrPem({ subject: `CN=${uid}` }));

    await expect(noKey.issue(csr, uid, EMPTY_FLEET)).rejects.toThrow(CsrRejectedError);
    await expect(noKey.issue(csr, uid, EMPTY_FLEET)).rejects.toThrow(/no private key/);
    await expect(notCa.issue(csr, uid, EMPTY_FLEET)).rejects.toThrow(CsrRejectedError);
    await expect(unreadable.issue(csr, uid, EMPTY_FLEET)).rejects.toThrow(/cannot sign certificates|EIO/);
  });

  it('treats a CA source that could not be read as unavailable (503), not as a bad request', async () => {
    const issuer = new CertificateIssuer({
      caRef: 'secretsmanager:opamp/ca',
      resolver: new CertificateResolver({
        secrets: { getSecretString: async () => Promise.reject(new Error('connect ETIMEDOUT')), getSecret: async () => Promise.reject(new Error('connect ETIMEDOUT')) },
        now: () => T0,
        refreshMs: 60_000,
        telemetry: NO_TELEMETRY,
      }),
      now: () => T0,
      telemetry: NO_TELEMETRY,
    });
    const csr = new TextEncoder().encode(await createCsrPem({ subject: `CN=${uid}` }));

    await expect(issuer.issue(csr, uid, EMPTY_FLEET)).rejects.toThrow(StoreUnavailableError);
  });
});

describe('PollService and certificate signing requests', () => {
  const SETTINGS_CAPS = caps('AgentCapabilities_ReportsStatus', 'AgentCapabilities_AcceptsOpAMPConnectionSettings');
  const options: CoreOptions = {
    ...DEFAULT_CORE_OPTIONS,
    features: { ...DEFAULT_CORE_OPTIONS.features, connectionSettings: true, connectionSettingsRequests: true },
  };

  function setup(withIssuer = true) {
    const agents = new MemoryAgentStore();
    const caDir = directory({ 'cert.pem': ca.certPem, 'key.pem': ca.keyPem });
    let signatures = 0;
    const issuer = issuerCounting(`file:${caDir}`, () => signatures++);
    const service = new PollService({
      agents,
      now: () => T0,
      newInstanceUid: () => {
        throw new Error('no uid expected');
      },
      options: withIssuer ? options : { ...options, features: { ...options.features, connectionSettingsRequests: false } },
      fleet: { current: async () => EMPTY_FLEET },
      ...(withIssuer ? { issuer } : {}),
    });
    return { agents, service, signatures: () => signatures };
  }
  function issuerCounting(caRef: string, onSign: () => void): CertificateIssuer {
    const issuer = new CertificateIssuer({
      caRef,
      resolver: new CertificateResolver({ readFile: fileReader, now: () => T0, refreshMs: 60_000, telemetry: NO_TELEMETRY }),
      now: () => T0,
      telemetry: NO_TELEMETRY,
    });
    const issue = issuer.issue.bind(issuer);
    issuer.issue = async (...args) => {
      onSign();
      return issue(...args);
    };
    return issuer;
  }
  function withCsr(seq: bigint, csr: string, capabilities = SETTINGS_CAPS) {
    const base = fullReport(new Uint8Array(16).fill(7), seq, { capabilities });
    return create(AgentToServerSchema, {
      ...base,
      connectionSettingsRequest: create(ConnectionSettingsRequestSchema, {
        opamp: create(OpAMPConnectionSettingsRequestSchema, { certificateRequest: create(CertificateRequestSchema, { csr: new TextEncoder().encode(csr) }) }),
      }),
    });
  }
  const UID = '07070707-0707-0707-0707-070707070707';

  it('signs once: the same CSR again (a retry, or a later message) gets the stored certificate', async () => {
    const { agents, service, signatures } = setup();
    const csr = await createCsrPem({ subject: `CN=${UID}` });

    const request = { url: 'https://opamp.example/v1/opamp?x=1' };
    const first = await service.poll(withCsr(0n, csr), 'd0', { request });
    const again = await service.poll(withCsr(1n, csr), 'd1', { request });

    const record = await agents.get(UID);
    expect(signatures()).toBe(1);
    expect(first.events).toContain('certificate-issued');
    expect(again.events).not.toContain('certificate-issued');
    expect(new TextDecoder().decode(first.reply.connectionSettings?.opamp?.certificate?.cert)).toBe(record?.issuedCertificate?.certPem);
    // The endpoint offered is the one the request came in on, without its query.
    expect(first.reply.connectionSettings?.opamp?.destinationEndpoint).toBe('https://opamp.example/v1/opamp');
  });

  it('refuses a CSR, storing nothing, when no CA is configured or the agent cannot take the certificate', async () => {
    const unconfigured = setup(false);
    const configured = setup();
    const csr = await createCsrPem({ subject: `CN=${UID}` });

    await expect(unconfigured.service.poll(withCsr(0n, csr), 'd0')).rejects.toThrow(/no CA is configured/);
    await expect(configured.service.poll(withCsr(0n, csr, caps('AgentCapabilities_ReportsStatus')), 'd0')).rejects.toThrow(/does not accept OpAMP connection settings/);
    expect(await unconfigured.agents.get(UID)).toBeUndefined();
    expect(await configured.agents.get(UID)).toBeUndefined();
    expect(configured.signatures()).toBe(0);
  });
});
