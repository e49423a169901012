// Bundles the extension, the CLI and the worker with esbuild (Node 20, CommonJS, vscode external).
// `--bench` bundles the benchmark instead, into out/ (never shipped).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
const builds = process.argv.includes('--bench')
  ? [build({ ...common, entryPoints: ['scripts/bench.ts'], outfile: 'out/bench.js' })]
  : [
      build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
      build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
      build({ ...common, entryPoints: ['src/worker/eventLogWorker.ts'], outfile: 'dist/worker.js' }),
    ];
await Promise.all(builds);
