import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../../functions/local/data-dir-lock.js';

/** The id of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('the data directory lock', () => {
  let dir: string;
  let lockPath: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'opamp-lock-'));
    lockPath = join(dir, LOCK_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused while held, naming the holder and its URL, and can be taken again once released', () => {
    const lock = lockDataDir(dir);
    lock.describe('http://127.0.0.1:4320');

    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(`another backend (process ${process.pid}, http://127.0.0.1:4320) is using the data directory ${dir}`);
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    lockDataDir(dir).release();
  });

  it('is refused while another running process holds it', () => {
    writeFileSync(lockPath, JSON.stringify({ pid: process.ppid }));

    expect(() => lockDataDir(dir)).toThrow(`another backend (process ${process.ppid}) is using`);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toEqual({ pid: process.ppid });
  });

  it.each([
    ['a process that is gone', () => JSON.stringify({ pid: deadPid(), url: 'http://127.0.0.1:1' })],
    ['this process id, left by an earlier process that had it', () => JSON.stringify({ pid: process.pid })],
    ['nothing readable, written long ago', () => ''],
  ])('is taken over from %s', (_, content) => {
    writeFileSync(lockPath, content());
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(lockPath, longAgo, longAgo);

    const lock = lockDataDir(dir);

    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toEqual({ pid: process.pid });
    lock.release();
  });

  it('is refused while a lock file made moments ago has no content yet: its owner is still writing it', () => {
    writeFileSync(lockPath, '');

    expect(() => lockDataDir(dir)).toThrow(`another backend is starting on the data directory ${dir}`);
  });

  it('creates the data directory when it does not exist yet', () => {
    const fresh = join(dir, 'a', 'b');

    lockDataDir(fresh).release();

    expect(existsSync(fresh)).toBe(true);
  });
});
