import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    ['nothing readable', () => ''],
  ])('is taken over from %s', (_, content) => {
    writeFileSync(lockPath, content());

    const lock = lockDataDir(dir);

    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toEqual({ pid: process.pid });
    lock.release();
  });

  it('creates the data directory when it does not exist yet', () => {
    const fresh = join(dir, 'a', 'b');

    lockDataDir(fresh).release();

    expect(existsSync(fresh)).toBe(true);
  });
});
