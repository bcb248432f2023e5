import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

/** One `aws s3 sync <folder> s3://<bucket>/<prefix> [--delete] [--exclude <pattern>]...` command. */
export interface SyncCommand {
  line: string;
  /** The local folder, relative to where the command runs. */
  source: string;
  /** The key prefix in the bucket: '' or ending in '/'. */
  prefix: string;
  delete: boolean;
  excludes: string[];
}

/** The `aws s3 sync` commands in a README section (from its heading to the next one of the same level). */
export function syncCommandsIn(readme: string, heading: string): SyncCommand[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = heading.slice(0, heading.indexOf(' ') + 1);
  const end = readme.indexOf(`\n${level}`, start + heading.length + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('aws s3 sync '))
    .map(parseSyncCommand);
}

export function parseSyncCommand(line: string): SyncCommand {
  const words = [...line.replace(/\s+#.*$/, '').matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const [, , , source, target, ...options] = words;
  const match = /^s3:\/\/<bucket>\/(.*)$/.exec(target ?? '');
  if (!source || !match) throw new Error(`not an "aws s3 sync <folder> s3://<bucket>/..." command: ${line}`);
  const prefix = match[1] === '' || match[1]!.endsWith('/') ? match[1]! : `${match[1]}/`;
  const command: SyncCommand = { line, source, prefix, delete: false, excludes: [] };
  for (let i = 0; i < options.length; i++) {
    if (options[i] === '--delete') command.delete = true;
    else if (options[i] === '--exclude' && options[i + 1] !== undefined) command.excludes.push(options[++i]!);
    else throw new Error(`option this test does not model: ${options[i]} in ${line}`);
  }
  return command;
}

/** The AWS CLI's filter patterns: `*` matches anything (also `/`), `?` one character. */
function matches(pattern: string, path: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(path);
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Runs a sync as the AWS CLI does: uploads every local file not excluded, and
 * with --delete removes every object under the prefix that has no local file
 * and is not excluded (excludes hold for both sides). Returns the keys deleted.
 */
export async function runSync(client: S3Client, bucket: string, cwd: string, command: SyncCommand): Promise<string[]> {
  const root = join(cwd, command.source);
  const kept = (path: string) => !command.excludes.some((pattern) => matches(pattern, path));
  const local = new Set(
    filesUnder(root)
      .map((file) => relative(root, file).split(sep).join('/'))
      .filter(kept),
  );
  for (const path of local) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${command.prefix}${path}`, Body: readFileSync(join(root, path)) }));
  }
  if (!command.delete) return [];
  const deleted: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: command.prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const { Key } of out.Contents ?? []) {
      const path = Key!.slice(command.prefix.length);
      if (local.has(path) || !kept(path)) continue;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      deleted.push(Key!);
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}
