// Cold start: bundle the OpAMP function the way the CDK stack does (the
// settings in cdk/lib/bundling.ts, which the stack's NodejsFunction uses too),
// then time module init in fresh Node processes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLING } from '../../cdk/lib/bundling.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(REPO_ROOT, 'functions', 'entry', 'opamp.lambda.ts');
const RUNS = 5;

export const BUNDLE_TARGET_BYTES = 500 * 1024;
export const INIT_TARGET_MS = 150;

export interface ColdStartResult {
  scenario: 'cold-start';
  bundleBytes: number;
  bundleKB: number;
  initMsMedian: number;
  initMsRuns: number[];
  /** The fastest run: least disturbed by other work on the machine. */
  initMsMin: number;
  /** From process start (performance.timeOrigin) to the import resolved: Node's own boot included. */
  sinceProcessStartMsMedian: number;
  /** With NODE_OPTIONS=--enable-source-maps as the stack sets it. */
  initMsMedianWithSourceMaps: number;
  bundling: Record<string, unknown>;
  /** Bytes in the minified bundle by package (or source folder), largest first. */
  largestContributors: Array<{ name: string; kb: number }>;
  targets: Array<{ name: string; limit: string; measured: string; held: boolean }>;
}

/** The memory size the stack gives the OpAMP function (256 MB unless it says otherwise). */
export function opampMemoryMb(stackFile = join(REPO_ROOT, 'cdk', 'lib', 'opamp-stack.ts')): number | undefined {
  if (!existsSync(stackFile)) return undefined;
  const text = readFileSync(stackFile, 'utf8');
  const at = text.indexOf("entry: 'opamp.lambda.ts'");
  if (at < 0) return undefined;
  const m = /memorySize:\s*(\d+)/.exec(text.slice(at, at + 600));
  return m ? Number(m[1]) : undefined;
}

export async function measureColdStart(progress: (line: string) => void): Promise<ColdStartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'opamp-bench-bundle-'));
  try {
    progress('cold start: bundling functions/entry/opamp.lambda.ts (cdk/lib/bundling.ts)');
    const outfile = join(dir, 'index.mjs');
    const built = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: BUNDLING.platform,
      format: BUNDLING.format,
      target: BUNDLING.target,
      outfile,
      minify: BUNDLING.minify,
      sourcemap: true,
      sourcesContent: false,
      mainFields: [...BUNDLING.mainFields],
      banner: { js: BUNDLING.banner },
      // The side packages are loaded from the function's node_modules on first use, not at init.
      external: [...BUNDLING.external, ...BUNDLING.sidePackages],
      alias: { ...BUNDLING.alias },
      logLevel: 'warning',
      absWorkingDir: REPO_ROOT,
      metafile: true,
    });
    const largest = largestPackages(built.metafile.outputs[Object.keys(built.metafile.outputs).find((k) => k.endsWith('index.mjs'))!]!.inputs);
    const bundleBytes = statSync(outfile).size;

    const runner = join(dir, 'init.mjs');
    writeFileSync(
      runner,
      [
        "import { performance } from 'node:perf_hooks';",
        'const t0 = performance.now();',
        `await import(${JSON.stringify(pathToFileURL(outfile).href)});`,
        'const t1 = performance.now();',
        'process.stdout.write(JSON.stringify({ initMs: t1 - t0, sinceStartMs: t1 }));',
      ].join('\n'),
    );
    const env = (extra: Record<string, string>) => ({
      PATH: process.env.PATH ?? '',
      OPAMP_TABLE: 'opamp-table',
      OPAMP_BUCKET: 'opamp-bucket',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_SERVICE_NAME: 'opamp',
      POWERTOOLS_METRICS_NAMESPACE: 'OpAMP',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...extra,
    });
    const time = (extra: Record<string, string>) => {
      const runs: Array<{ initMs: number; sinceStartMs: number }> = [];
      for (let i = 0; i < RUNS; i++) {
        const out = spawnSync(process.execPath, [runner], { env: env(extra), encoding: 'utf8', timeout: 30_000 });
        if (out.status !== 0) throw new Error(`init run failed (${out.status}): ${out.stderr.slice(0, 500)}`);
        runs.push(JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { initMs: number; sinceStartMs: number });
      }
      return runs;
    };
    progress(`cold start: timing module init in ${RUNS} fresh node processes (twice: without and with --enable-source-maps)`);
    const plain = time({});
    const withMaps = time({ NODE_OPTIONS: '--enable-source-maps' });
    const initMsRuns = plain.map((r) => round1(r.initMs));
    const initMsMedian = median(initMsRuns);
    const result: ColdStartResult = {
      scenario: 'cold-start',
      bundleBytes,
      bundleKB: round1(bundleBytes / 1024),
      initMsMedian,
      initMsRuns,
      initMsMin: Math.min(...initMsRuns),
      sinceProcessStartMsMedian: median(plain.map((r) => round1(r.sinceStartMs))),
      initMsMedianWithSourceMaps: median(withMaps.map((r) => round1(r.initMs))),
      bundling: {
        source: 'cdk/lib/bundling.ts',
        format: BUNDLING.format,
        platform: BUNDLING.platform,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        mainFields: [...BUNDLING.mainFields],
        external: [...BUNDLING.external, ...BUNDLING.sidePackages],
        alias: Object.keys(BUNDLING.alias),
        node: process.version,
      },
      largestContributors: largest,
      targets: [],
    };
    result.targets = [
      { name: 'bundle size (minified)', limit: '<= 500 KB', measured: `${result.bundleKB} KB`, held: bundleBytes <= BUNDLE_TARGET_BYTES },
      { name: 'module init (median of 5)', limit: `<= ${INIT_TARGET_MS} ms`, measured: `${initMsMedian} ms`, held: initMsMedian <= INIT_TARGET_MS },
    ];
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function largestPackages(inputs: Record<string, { bytesInOutput: number }>): Array<{ name: string; kb: number }> {
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = m ? m[1]! : path.split('/').slice(0, 2).join('/');
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, bytes]) => ({ name, kb: round1(bytes / 1024) }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : round1((sorted[mid - 1]! + sorted[mid]!) / 2);
}

const round1 = (x: number) => Math.round(x * 10) / 10;
