// Bundles the extension, the CLI and the worker with esbuild (Node 20, CommonJS, vscode external).
// `--tools` bundles the developer scripts (benchmark, sample writer) into out/ instead (never shipped).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, transform } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

// The API collectors, with undici, the AWS SDK and google-auth-library, are files of their own that
// their descriptors (src/collectors/<dir>/source.ts) import when a source of theirs runs. In the bundles, merely parsing them
// cost every CLI command and every activation: a 4.8 MB cli.js, `--help` at 90 MB (issue #12,
// BENCHMARKS.md). Their import() becomes a require() (`supported` below) of the file next to the bundle.
// Every source type but event logs (which every run needs) has its collector in a file of its own:
// a folder of src/collectors with a collect.ts, bundled as dist/<folder>Collector.js.
const API_COLLECTORS = Object.fromEntries(
  readdirSync('src/collectors', { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'eventlog' && existsSync(path.join('src/collectors', d.name, 'collect.ts')))
    .map((d) => [d.name, `${d.name}Collector`]),
);
const apiCollectorFiles = {
  name: 'api-collector-files',
  setup(b) {
    b.onResolve({ filter: /^\.\/collect\.js$/ }, (args) => {
      const file = API_COLLECTORS[path.basename(args.resolveDir)];
      return args.kind === 'dynamic-import' && file ? { path: `./${file}.js`, external: true } : undefined;
    });
  },
};
// zod bundles the error messages of every language (366 KB of its 750 KB, parsed by every bundle and
// worker thread at start); only English is ever used. `locales` then holds English alone.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/][^\\/]+\.js$/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '../locales/en.js'), namespace: 'zod-english' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: path.dirname(args.path) }));
  },
};
const shipped = { ...common, plugins: [apiCollectorFiles, zodEnglishOnly], supported: { 'dynamic-import': false } };

// Modules that most CLI commands never use, though a module they import names them: yaml (260 KB
// of source, read only for a config file: `--config`, `validate` of a config), worker_threads
// (the event-log pool, started for more than a handful of logs), zlib (gzip logs, stored summaries;
// named by the flag helpers every command loads), v8 (flags set for a command, not for `--help`) and
// net (storage/store.ts reaches a PostgreSQL server with it; a file database never does: 0.2 MB).
// Parsing or loading them cost every command 1-1.5 MB each of its 60 MB start-up budget (issue #12);
// zlib and v8 each load Node's stream modules. In the CLI bundle each is a module of getters that
// requires the real one on first use: yaml from dist/yaml.js, a built-in by name.
const LAZY_MODULES = { yaml: './yaml.js', ...Object.fromEntries(['node:worker_threads', 'node:zlib', 'node:v8', 'node:net'].map((m) => [m, m])) };
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const require = createRequire(import.meta.url);
    b.onResolve({ filter: /.*/, namespace: 'lazy' }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: /^(yaml|node:(worker_threads|zlib|v8|net))$/ }, (args) => ({ path: args.path, namespace: 'lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const from = JSON.stringify(LAZY_MODULES[args.path]);
      const getters = Object.keys(require(args.path)).map((k) => `Object.defineProperty(exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`);
      return { loader: 'js', contents: `let loaded;\nconst load = () => (loaded ??= require(${from}));\n${getters.join('\n')}\n` };
    });
  },
};

/**
 * The CLI's bundle in ASCII alone (issue #12, start-up memory). esbuild escapes every non-ASCII
 * character of code (`charset: 'ascii'`) but keeps comments as written, and one '…' or '§' in a
 * comment makes Node hold the whole 1.2 MB source as a two-byte string: 1.2 MB more RSS for every
 * command. Each such UTF-16 unit becomes '?', one for one, so the source map's lines and columns
 * still hold; the build fails if that changed anything but comments (the whitespace-minified code of
 * both must be the same). Returns the texts written, by file name.
 */
async function writeAscii(result) {
  const texts = {};
  for (const file of result.outputFiles) {
    let text = file.text;
    if (file.path.endsWith('.js') && /[^\0-\x7f]/.test(text)) {
      const ascii = text.replace(/[^\0-\x7f]/g, '?');
      const code = async (t) => (await transform(t, { minifyWhitespace: true, legalComments: 'inline', logLevel: 'silent' })).code;
      if ((await code(ascii)) !== (await code(text))) throw new Error(`${file.path}: a non-ASCII character outside a comment`);
      text = ascii;
    }
    writeFileSync(file.path, text);
    texts[path.basename(file.path)] = text;
  }
  return texts;
}
// The schema a new database is made from (src/storage/schemaImage.ts, issue #12: start-up), generated from
// the migrations before the bundles that import it; rewritten only when the migrations changed it.
if (!process.argv.includes('--tools')) {
  await build({ ...common, entryPoints: ['scripts/writeSchemaImage.ts'], outfile: 'out/writeSchemaImage.js', sourcemap: false });
  execFileSync(process.execPath, ['out/writeSchemaImage.js', 'src/storage/schemaImage.ts'], { stdio: 'inherit' });
}
const builds = process.argv.includes('--tools')
  ? [
      // playwright-core (the views bench drives Chromium) is loaded from node_modules, not bundled.
      build({ ...common, entryPoints: ['scripts/bench.ts'], outfile: 'out/bench.js', external: ['playwright-core'] }),
      build({ ...common, entryPoints: ['scripts/makeSamples.ts'], outfile: 'out/makeSamples.js' }),
      build({ ...common, entryPoints: ['scripts/startup.ts'], outfile: 'out/startup.js' }),
      build({ ...common, entryPoints: ['scripts/activate.ts'], outfile: 'out/activate.js' }),
      build({ ...common, entryPoints: ['scripts/fuzz.ts'], outfile: 'out/fuzz.js' }),
    ]
  : [
      build({ ...shipped, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
      // Whitespace and syntax minified, names kept (stack traces still name functions; cliMain.js.map maps
      // lines back): V8 keeps the whole source and scans it, and 0.78 -> 0.55 MB took 0.5 MB off
      // `collect`'s peak (issue #12). Names renamed too would take 0.2 MB more, not worth unreadable traces.
      // The bundle is one function expression that dist/cli.js (src/cli/launcher.ts) compiles with a V8 code
      // cache and calls as Node calls a module's code; the banner takes the line the shebang had, so
      // the source map's lines hold. The launcher names its caches by the bundle's content hash.
      build({ ...shipped, plugins: [...shipped.plugins, lazyModules], entryPoints: ['src/cli/main.ts'], outfile: 'dist/cliMain.js', minifyWhitespace: true, minifySyntax: true, banner: { js: '(function (exports, require, module, __filename, __dirname) {' }, footer: { js: '})' }, write: false })
        .then(writeAscii)
        .then((texts) => {
          const hash = createHash('sha256').update(texts['cliMain.js']).digest('hex').slice(0, 16);
          return build({ ...shipped, plugins: [...shipped.plugins, lazyModules], entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/cli.js', minifySyntax: true, define: { CLI_BUNDLE_HASH: JSON.stringify(hash) }, banner: { js: '#!/usr/bin/env node' }, write: false }).then(writeAscii);
        }),
      build({ ...shipped, stdin: { contents: "module.exports = require('yaml');", resolveDir: '.', sourcefile: 'yaml.js' }, outfile: 'dist/yaml.js' }),
      build({ ...shipped, entryPoints: ['src/worker/eventLogWorker.ts'], outfile: 'dist/worker.js' }),
      build({ ...shipped, entryPoints: ['src/worker/collectWorker.ts'], outfile: 'dist/collectWorker.js' }),
      build({ ...shipped, entryPoints: ['src/worker/analyzeWorker.ts'], outfile: 'dist/analyzeWorker.js' }),
      // PostgreSQL's connection thread (storage/postgres/syncClient.ts); pg's optional native binding is never used.
      build({ ...shipped, entryPoints: ['src/storage/postgres/pgWorker.ts'], outfile: 'dist/pgWorker.js', external: ['pg-native'] }),
      ...Object.entries(API_COLLECTORS).map(([dir, file]) => build({ ...shipped, entryPoints: [`src/collectors/${dir}/collect.ts`], outfile: `dist/${file}.js` })),
      build({ ...common, entryPoints: ['scripts/writeSchema.ts'], outfile: 'out/writeSchema.js', sourcemap: false }),
      // The Job page's and the Trend's webview scripts and styles (issue 15), for the browser: uPlot and the
      // @vscode-elements components live only here, never in dist/extension.js.
      build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', minify: true, sourcemap: false, logLevel: 'warning', entryPoints: { jobPage: 'src/webview/jobPage/main.ts', trend: 'src/webview/trend/main.ts', jobsTable: 'src/webview/jobsTable/main.ts', compare: 'src/webview/compare/main.ts' }, outdir: 'dist/webview' }),
    ];
await Promise.all(builds);
// sql.js's WebAssembly sits next to the bundles that load it (located explicitly by src/storage/sqlJs.ts).
if (!process.argv.includes('--tools')) {
  copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');
  // The config's JSON Schema, generated from the zod schema, for Red Hat's YAML extension (yamlValidation).
  execFileSync(process.execPath, ['out/writeSchema.js', 'dist/config.schema.json'], { stdio: 'inherit' });
}
