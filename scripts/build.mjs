// Bundles the extension, the CLI and the worker with esbuild (Node 20, CommonJS, vscode external).
// `--tools` bundles the developer scripts (benchmark, sample writer) into out/ instead (never shipped).
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
const builds = process.argv.includes('--tools')
  ? [
      build({ ...common, entryPoints: ['scripts/bench.ts'], outfile: 'out/bench.js' }),
      build({ ...common, entryPoints: ['scripts/makeSamples.ts'], outfile: 'out/makeSamples.js' }),
    ]
  : [
      build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
      build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
      build({ ...common, entryPoints: ['src/worker/eventLogWorker.ts'], outfile: 'dist/worker.js' }),
      build({ ...common, entryPoints: ['src/worker/collectWorker.ts'], outfile: 'dist/collectWorker.js' }),
      build({ ...common, entryPoints: ['src/worker/analyzeWorker.ts'], outfile: 'dist/analyzeWorker.js' }),
      build({ ...common, entryPoints: ['scripts/writeSchema.ts'], outfile: 'out/writeSchema.js', sourcemap: false }),
    ];
await Promise.all(builds);
// sql.js's WebAssembly sits next to the bundles that load it (located explicitly by src/storage/sqlJs.ts).
if (!process.argv.includes('--tools')) {
  copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');
  // The config's JSON Schema, generated from the zod schema, for Red Hat's YAML extension (yamlValidation).
  execFileSync(process.execPath, ['out/writeSchema.js', 'dist/config.schema.json'], { stdio: 'inherit' });
}
