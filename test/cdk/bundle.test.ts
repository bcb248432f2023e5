import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLING, REPO_ROOT } from '../../cdk/lib/bundling.js';
import { OpampStack } from '../../cdk/lib/opamp-stack.js';
import { logicalId, testApp } from './cdk-app.js';

const outdir = mkdtempSync(path.join(tmpdir(), 'opamp-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

// The bundles leave the S3 client to the Lambda runtime, which provides the SDK;
// here the repository's node_modules plays that part for the bundles under outdir.
symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(outdir, 'node_modules'), 'dir');

/** Bare module specifiers a bundle still imports (everything else was bundled in). */
function externalImports(bundle: string): string[] {
  const code = readFileSync(bundle, 'utf8');
  // A package name right between the quotes: minified code also has strings such as "from" followed by a quote.
  const specifiers = [...code.matchAll(/(?:from\s*|import\s*\(\s*|require\(\s*)["'](@?[a-z0-9][\w.-]*(?:\/[\w.-]+)*)["']/g)].map((m) => m[1]!);
  return [...new Set(specifiers)].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s)).sort();
}

/** Imports the bundle in a fresh Node process, as the Lambda runtime would, and checks it exports `handler`. */
function loadHandler(bundle: string) {
  const script = `import(${JSON.stringify(bundle)}).then((m) => { if (typeof m.handler !== 'function') process.exit(2); })`;
  return spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: process.env.PATH,
      OPAMP_TABLE: 'opamp-bundle-test',
      OPAMP_BUCKET: 'opamp-bundle-test',
      AWS_REGION: 'eu-west-1',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
}

describe('Lambda bundles', () => {
  // The one test that runs esbuild: a broken import in a handler fails here.
  it('bundles every function into an ESM file that loads in a fresh Node process and exports handler', () => {
    const app = testApp({ bundle: true, outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new OpampStack(app, 'OpampStack');
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Metadata?: Record<string, string> }> };

    const bundles = Object.fromEntries(
      (['opampFunction', 'apiFunction', 'ingestFunction', 'rolloutsFunction'] as const).map((name) => {
        const assetPath = template.Resources[logicalId(stack[name])]!.Metadata!['aws:asset:path']!;
        return [name, path.join(assembly.directory, assetPath, 'index.mjs')];
      }),
    );

    for (const [name, bundle] of Object.entries(bundles)) {
      expect(existsSync(bundle), `${name}: ${bundle}`).toBe(true);
      for (const specifier of externalImports(bundle)) {
        expect([...BUNDLING.external, ...BUNDLING.sidePackages], `${name} imports ${specifier} from outside`).toContain(specifier);
      }
      // The side packages sit beside the bundle, where Node resolves them by name (self-contained: see below).
      for (const pkg of BUNDLING.sidePackages) {
        const side = path.join(path.dirname(bundle), 'node_modules', ...pkg.split('/'), 'index.mjs');
        expect(existsSync(side), `${name}: ${side}`).toBe(true);
      }
      expect(existsSync(`${bundle}.map`), `${name}: source map`).toBe(true);
      const result = loadHandler(bundle);
      expect(result.status, `${name}: ${result.stderr}`).toBe(0);
    }
    const opampBytes = statSync(bundles.opampFunction!).size;
    console.log(`OpAMP bundle (index.mjs): ${opampBytes} bytes`);
    // Minified, the AWS SDK left to the runtime, none of the fleet API or the
    // ingest: the agent endpoint stays within the 500 KB cold-start budget.
    expect(opampBytes).toBeGreaterThan(100_000);
    expect(opampBytes).toBeLessThan(500_000);
    // The fleet API and the ingest validate with zod's mini build (functions/core/schema.ts):
    // the full build would add about 440 KB to each. The fleet API also carries the
    // OpenAPI description, configuration history with its diff, the audit log and rollouts.
    console.log(`fleet API bundle: ${statSync(bundles.apiFunction!).size} bytes; ingest: ${statSync(bundles.ingestFunction!).size} bytes`);
    expect(statSync(bundles.apiFunction!).size).toBeLessThan(650_000);
    expect(statSync(bundles.ingestFunction!).size).toBeLessThan(400_000);
    // The X.509 library works from its side bundles alone (the repository's node_modules out of reach).
    const dir = path.dirname(bundles.opampFunction!);
    const sides = (pkg: string) => JSON.stringify(path.join(dir, 'node_modules', ...pkg.split('/'), 'index.mjs'));
    const script = `await import(${sides('reflect-metadata')}); const x = await import(${sides('@peculiar/x509')});
      x.cryptoProvider.set(globalThis.crypto);
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const cert = await x.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=side', keys, signingAlgorithm: alg, notBefore: new Date(), notAfter: new Date(Date.now() + 1e6) });
      if (!(await cert.verify({ signatureOnly: true }))) process.exit(3);`;
    const isolated = mkdtempSync(path.join(tmpdir(), 'opamp-side-'));
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: isolated, encoding: 'utf8', timeout: 20_000 });
    rmSync(isolated, { recursive: true, force: true });
    expect(run.status, run.stderr).toBe(0);
  }, 120_000);
});
