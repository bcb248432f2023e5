import { describe, expect, it } from 'vitest';
import { ConfigError, loadLocalSettings } from '../../functions/config.js';
import { certificateRef, choice, flag, httpUrl, list, number, optional, readSettings, setting, text } from '../../functions/settings.js';

describe('declared settings', () => {
  const table = {
    interval: setting('X_INTERVAL', number({ above: 0 }), 30, 'an interval'),
    count: setting('X_COUNT', number({ integer: true, min: 1, max: 9 }), 3, 'a count'),
    name: setting('X_NAME', text({ minLength: 3 }), 'abc', 'a name'),
    tags: setting('X_TAGS', list(), [] as readonly string[], 'tags'),
    on: setting('X_ON', flag(), false, 'a switch'),
    mode: setting('X_MODE', choice(['a', 'b'] as const), 'a', 'a mode'),
    url: optional<string>('X_URL', httpUrl(), 'a URL'),
    ca: optional<string>('X_CA', certificateRef(), 'a CA'),
  };

  it('gives each default when the environment sets nothing', () => {
    expect(readSettings({}, table)).toEqual({
      values: { interval: 30, count: 3, name: 'abc', tags: [], on: false, mode: 'a', url: undefined, ca: undefined },
      problems: [],
    });
  });

  it('parses what the environment sets', () => {
    const { values, problems } = readSettings(
      {
        X_INTERVAL: '0.5',
        X_COUNT: '9',
        X_NAME: 'table',
        X_TAGS: ' a, b ,,',
        X_ON: '1',
        X_MODE: 'b',
        X_URL: 'https://example.com/v1/opamp',
        X_CA: ' secretsmanager:opamp/ca ',
      },
      table,
    );
    expect(problems).toEqual([]);
    expect(values).toEqual({ interval: 0.5, count: 9, name: 'table', tags: ['a', 'b'], on: true, mode: 'b', url: 'https://example.com/v1/opamp', ca: 'secretsmanager:opamp/ca' });
  });

  it('treats blank numbers, URLs and references as unset, but not a blank name', () => {
    const { values, problems } = readSettings({ X_INTERVAL: ' ', X_URL: '', X_CA: ' ', X_NAME: '' }, table);
    expect(values).toMatchObject({ interval: 30, url: undefined, ca: undefined });
    expect(problems).toEqual(['X_NAME: expected at least 3 characters, got ""']);
  });

  it('names every bad value, what it expected and what it got, and keeps the default', () => {
    const { values, problems } = readSettings(
      {
        X_INTERVAL: '0',
        X_COUNT: '2.5',
        X_ON: 'yes',
        X_MODE: 'c',
        X_URL: 'ftp://x',
        X_CA: 'vault:x',
      },
      table,
    );
    expect(problems).toEqual([
      'X_INTERVAL: expected a number > 0, got "0"',
      'X_COUNT: expected an integer >= 1 and <= 9, got "2.5"',
      'X_ON: expected true or false, got "yes"',
      'X_MODE: expected one of a, b, got "c"',
      'X_URL: expected an http:// or https:// URL, got "ftp://x"',
      'X_CA: expected a certificate reference (bucket:<name>, secretsmanager:<secret id> or file:<directory>), got "vault:x"',
    ]);
    expect(values).toMatchObject({ interval: 30, count: 3, on: false, mode: 'a', url: undefined, ca: undefined });
  });

  it('describes the values each parser takes, for the reference', () => {
    expect([
      number({ above: 0 }).accepts,
      number({ integer: true, min: 1 }).accepts,
      number({ integer: true, min: 0, max: 9 }).accepts,
      text({ minLength: 3 }).accepts,
      list().show([]),
      list().show(['a', 'b']),
      flag().show(false),
      choice(['a', 'b']).accepts,
    ]).toEqual(['number > 0', 'integer >= 1', 'integer, 0 to 9', 'text, at least 3 characters', 'empty', '`a,b`', '`false`', '`a`, `b`']);
  });
});

describe('loadLocalSettings', () => {
  it('gives the local backend defaults', () => {
    expect(loadLocalSettings({})).toEqual({
      port: 4320,
      host: '127.0.0.1',
      dataDir: '.data',
      reconcileIntervalMs: 10_000,
      rolloutIntervalMs: 10_000,
      dynamodbEndpoint: undefined,
      s3Endpoint: undefined,
    });
  });

  it('reads the local settings and the external store endpoints', () => {
    expect(
      loadLocalSettings({
        OPAMP_PORT: '0',
        OPAMP_HOST: '0.0.0.0',
        OPAMP_DATA_DIR: '/tmp/opamp',
        OPAMP_RECONCILE_SECONDS: '5',
        OPAMP_ROLLOUT_EVALUATE_SECONDS: '30',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:4566',
        AWS_ENDPOINT_URL_S3: 'http://localhost:4566',
      }),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      dataDir: '/tmp/opamp',
      reconcileIntervalMs: 5000,
      rolloutIntervalMs: 30_000,
      dynamodbEndpoint: 'http://localhost:4566',
      s3Endpoint: 'http://localhost:4566',
    });
  });

  it('stops on a bad port or reconcile interval, naming both', () => {
    expect(() => loadLocalSettings({ OPAMP_PORT: '70000', OPAMP_RECONCILE_SECONDS: '0' })).toThrow(ConfigError);
    expect(() => loadLocalSettings({ OPAMP_PORT: '70000', OPAMP_RECONCILE_SECONDS: '0' })).toThrow(
      'invalid configuration: OPAMP_PORT: expected an integer >= 0 and <= 65535, got "70000"; OPAMP_RECONCILE_SECONDS: expected an integer >= 1 and <= 86400, got "0"',
    );
  });
});
