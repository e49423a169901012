/**
 * `spark-optimizer`'s entry, dist/cli.js: runs the CLI's bundle (dist/cliMain.js, built from main.ts)
 * with a V8 code cache, so that a command's runs after its first skip compiling the bundle (issue
 * #12, start-up). Compiling was about a fifth of a small run: V8 scans the 0.6 MB bundle, then
 * compiles each function the first time it runs. A 4-log `collect` took 120-140 ms of CPU with the
 * cache against 150 (node out/startup.js).
 *
 * The cache is V8's own (vm.Script cachedData, as Node 22's module.enableCompileCache makes): the
 * bytecode of the functions a run compiled, made when a run without a usable cache exits with
 * status 0, one file per kind of run (each command; help; the rest, as `--version`: these two run
 * with other V8 flags). V8 refuses a cache made by another V8 version, with other flags or
 * for a source of another length, and the file's name holds the bundle's content hash (npm gives
 * every installed file the same mtime), Node's version and the architecture; a refused or unreadable
 * cache is compiled without and made again. Where: $SPARK_OPTIMIZER_COMPILE_CACHE (a folder, or 0
 * for none), else the user's cache folder (~/.cache/spark-optimizer, ~/Library/Caches/spark-optimizer,
 * %LOCALAPPDATA%\spark-optimizer\Cache). Never a shared folder such as /tmp: a cache file is code.
 */
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { asksForHelp } from './commands';
import { tuneV8, tunesV8 } from './v8Flags';

/** The bundle's content hash, written in by scripts/build.mjs. */
declare const CLI_BUNDLE_HASH: string;

/** The bundle is one function expression (the build's banner and footer) taking what a CommonJS module gets. */
type BundleFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

const BUNDLE = path.join(__dirname, 'cliMain.js');

/** The folder of the cache files, or undefined for none. */
function cacheFolder(): string | undefined {
  const setting = process.env.SPARK_OPTIMIZER_COMPILE_CACHE;
  if (setting !== undefined && setting !== '') return /^(0|false|off|no)$/i.test(setting) ? undefined : path.resolve(setting);
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined; // no home folder (a service account): no cache
  }
  if (process.platform === 'win32') return process.env.LOCALAPPDATA ? path.join(process.env.LOCALAPPDATA, 'spark-optimizer', 'Cache') : undefined;
  if (home === '') return undefined;
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'spark-optimizer');
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), 'spark-optimizer');
}

/**
 * Caches (and temporary files) not written for this long are removed when a cache is written: those
 * of other builds and Node versions. Not at once: two installs used in turn (the extension's CLI and
 * a global one) would each remove the other's, and every run would make its cache again.
 */
const STALE_MS = 30 * 24 * 3600 * 1000;

/**
 * Writes the cache of what this run compiled, atomically (runs at once each write their own
 * temporary file and rename it), and removes stale ones. Any failure leaves things as they were:
 * the cache only saves time.
 */
function writeCache(script: Script, folder: string, file: string, tuned: boolean): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    accessSync(folder, constants.W_OK);
    // The flags a cached run compiles under: a `collect` that grew big has changed one since (collectCommand.ts).
    if (tuned) tuneV8();
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    const stale = Date.now() - STALE_MS;
    for (const name of readdirSync(folder)) {
      const other = path.join(folder, name);
      if (name.startsWith('cli-') && other !== file && statSync(other).mtimeMs < stale) rmSync(other, { force: true });
    }
  } catch {
    // not writable, full, removed meanwhile: run without a cache next time too
  }
}

const argv = process.argv.slice(2);
const tuned = tunesV8(argv);
// Help texts run other code than `--version`: a cache of one would leave the other's compiling to do.
const kind = tuned ? argv[0]! : argv[0] === 'help' || asksForHelp(argv) ? 'help' : 'other';
const folder = cacheFolder();
const file = folder === undefined ? undefined : path.join(folder, `cli-${kind}-${CLI_BUNDLE_HASH}-${statSync(BUNDLE).size}-${process.version}-${process.arch}.v8cache`);
let cachedData: Buffer | undefined;
// Read before the bundle's source, which took a 4-log `collect`'s peak from 59.9 to 61.3 MB when read
// after it: Node reads the source into a buffer it frees at once, which raises glibc's mmap threshold
// past the cache's size, so the cache's buffer came from the heap and stayed resident once freed.
try {
  if (file !== undefined) cachedData = readFileSync(file);
} catch {
  // none yet: this run makes it
}
const source = readFileSync(BUNDLE, 'utf8');
// V8 takes a cache only in a process whose flags are those it was made with (a tuned run's: writeCache
// sets them again). Without a cache the bundle is compiled before the flags change, as it was before
// this entry: compiled after any flag had changed, it took `jobs` from 56.1 to 57.7 MB (issue #12).
if (tuned && cachedData !== undefined) tuneV8();
const script = new Script(source, { filename: BUNDLE, cachedData });
if (tuned && cachedData === undefined) tuneV8();
if (folder !== undefined && file !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  // Only a run that succeeded: a usage error's run compiles little of what the command needs.
  process.once('exit', (code) => {
    if (code === 0) writeCache(script, folder, file, tuned);
  });
}
cachedData = undefined; // its 0.3-0.8 MB are not kept through the run
(script.runInThisContext() as BundleFunction).call(module.exports, module.exports, require, module, BUNDLE, __dirname);
