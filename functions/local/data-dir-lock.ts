import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One backend per data directory. The embedded DynamoDB keeps its data in a
 * LevelDB database that only one process may open; a second backend on the
 * same directory would fail deep inside the emulator, after it had started
 * serving. A lock file naming the owner's process id is taken before
 * anything starts. A lock whose process is gone (killed, machine restarted)
 * is taken over.
 */
export const LOCK_FILE = 'backend.lock';
/** How long an empty lock file counts as being written rather than left over. */
const FRESH_MS = 5_000;

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

export interface DataDirLock {
  /** Records the backend's URL in the lock, so that a second start can say where the first one is. */
  describe(url: string): void;
  release(): void;
}

interface LockContent {
  pid: number;
  url?: string;
}

/** Lock files held by this process; a lock naming this process but not held here is left over from an earlier process with the same id. */
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  // Two attempts: the second after removing a lock whose owner is gone.
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid } satisfies LockContent), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const owner = readLock(path);
    if (!owner && isFresh(path)) {
      throw new DataDirInUseError(`another backend is starting on the data directory ${dataDir}; give this one its own directory and port with OPAMP_DATA_DIR and OPAMP_PORT`);
    }
    if (owner && isRunning(owner.pid) && (owner.pid !== process.pid || heldHere.has(path))) {
      const where = owner.url ? `, ${owner.url}` : '';
      throw new DataDirInUseError(
        `another backend (process ${owner.pid}${where}) is using the data directory ${dataDir}; ` +
          `stop it, or give this one its own directory and port with OPAMP_DATA_DIR and OPAMP_PORT ` +
          `(remove ${path} if no backend runs there)`,
      );
    }
    rmSync(path, { force: true });
  }
  heldHere.add(path);
  return {
    describe(url) {
      // Replaced in one step: a start that reads the lock meanwhile sees the old content or the new, never a partial file.
      const next = `${path}.${process.pid}`;
      writeFileSync(next, JSON.stringify({ pid: process.pid, url } satisfies LockContent));
      renameSync(next, path);
    },
    release() {
      if (!heldHere.delete(path)) return;
      rmSync(path, { force: true });
    },
  };
}

/** The lock's owner, or undefined for a file that is empty or unreadable (a start that died while writing it). */
function readLock(path: string): LockContent | undefined {
  try {
    const content = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return Number.isInteger(content.pid) && content.pid! > 0 ? { pid: content.pid!, ...(typeof content.url === 'string' ? { url: content.url } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** A lock file without content that was made in the last few seconds: its owner may still be writing it. */
function isFresh(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < FRESH_MS;
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
