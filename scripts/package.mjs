// `npm run package [-- --sourcemaps]`: builds, then packs spark-optimizer.vsix with vsce. The .vsix
// ships without source maps (.vscodeignore allows dist's .js, .css, .json and .wasm only);
// --sourcemaps packs them too, for debugging a user's stack traces. --no-build packs dist as it is
// (the tests, which built it once already and must not rewrite it under other tests).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--sourcemaps' && a !== '--no-build');
if (unknown.length > 0) {
  console.error(`package: unknown option ${unknown.join(' ')}; the options are --sourcemaps and --no-build`);
  process.exit(2);
}
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });
if (!args.includes('--no-build')) run(process.execPath, ['scripts/build.mjs']);
const out = process.env.PACKAGE_OUT ?? 'spark-optimizer.vsix';
const vsce = [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out];
const tmp = mkdtempSync(path.join(tmpdir(), 'spark-opt-package-'));
try {
  if (args.includes('--sourcemaps')) {
    const ignore = path.join(tmp, 'vscodeignore');
    writeFileSync(ignore, `${readFileSync(path.join(root, '.vscodeignore'), 'utf8')}!dist/**/*.map\n`);
    vsce.push('--ignoreFile', ignore);
  }
  run(process.execPath, vsce);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
