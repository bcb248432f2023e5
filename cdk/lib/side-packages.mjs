// Bundles packages that a function loads only on rare requests into the
// function's own node_modules/, one self-contained ESM file each, so that they
// stay out of the main bundle (and its cold start) yet resolve by name at run
// time. Run by the functions' afterBundling hook (see opamp-function.ts):
//
//   node cdk/lib/side-packages.mjs <output dir> <base64 JSON: {packages, target, mainFields, banner, minify}>
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const [outputDir, encoded] = process.argv.slice(2);
if (!outputDir || !encoded) {
  process.stderr.write('usage: side-packages.mjs <output dir> <base64 JSON options>\n');
  process.exit(2);
}
const options = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));

for (const name of options.packages) {
  const dir = path.join(outputDir, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  await build({
    stdin: { contents: `export * from ${JSON.stringify(name)};\nimport ${JSON.stringify(name)};\n`, resolveDir: path.dirname(new URL(import.meta.url).pathname), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    mainFields: options.mainFields,
    minify: options.minify,
    banner: { js: options.banner },
    // Only the package itself: the others are side packages of their own, or Node's.
    external: options.packages.filter((other) => other !== name),
    outfile: path.join(dir, 'index.mjs'),
    logLevel: 'warning',
  });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, type: 'module', main: 'index.mjs', exports: './index.mjs' }, null, 2)}\n`);
}
