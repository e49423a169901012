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
// Loaded at start for every command (not on first use): a `collect` hashes its records with it
// anyway, and loaded before the bundle it left `collect`'s peak 0.3-0.5 MB lower than loaded midway
// (59.5-59.6 against 59.9-60.1 MB, node out/startup.js; `--help` 45 -> 47 MB).
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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
  // A relative folder would be one a checked-out repository could fill: none then.
  if (setting !== undefined && setting !== '') return /^(0|false|off|no)$/i.test(setting) || !path.isAbsolute(setting) ? undefined : setting;
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
 * A cache file: MAGIC, the hash of the bundle it was made from (16 characters) and the V8 data's
 * length (uint32 LE, then 4 bytes of 0), then V8's data. V8 itself checks only its version, its flags and the source's
 * length; a body damaged on disk crashed the process in V8's deserializer (SIGTRAP), and, never
 * exiting 0, it never made the cache again. So a run marks the cache while V8 reads it (LOADING): a
 * run that finds the mark left behind drops the cache instead of crashing again. (A digest checked
 * before reading costs every start: Node's crypto 2 MB of `--help`, a JavaScript checksum's loop 4 MB
 * as V8 optimized it; `collect` was at 60.0 MB with SHA-1.)
 */
const MAGIC = Buffer.from('SOCC0002', 'latin1');
/** 8-byte aligned: V8 copies cached data that is not pointer-aligned (0.3-0.8 MB more of `collect`'s peak). */
const HEADER = MAGIC.length + 16 + 8;
const LOADING = '.loading';

/**
 * Whether a cache folder or file may be trusted: a cache is code this process runs. On POSIX it
 * must belong to this user and be writable by no one else (a file: not a link); Windows' per-user
 * LOCALAPPDATA is private already.
 */
function private_(p: string, file: boolean): boolean {
  if (process.getuid === undefined) return true;
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st !== undefined && (file ? st.isFile() : st.isDirectory()) && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** The V8 data of a cache file made for this bundle, intact; undefined for anything else. */
function readCache(file: string): Buffer | undefined {
  try {
    if (!private_(path.dirname(file), false)) return undefined;
    if (existsSync(file + LOADING)) {
      // The last run that read this cache died reading it.
      unmark(file);
      unmark(file + LOADING);
      return undefined;
    }
    if (!private_(file, true)) return undefined;
    const data = readFileSync(file);
    if (data.length < HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC) || data.toString('latin1', MAGIC.length, MAGIC.length + 16) !== CLI_BUNDLE_HASH) return undefined;
    const body = data.subarray(HEADER);
    return body.length === data.readUInt32LE(MAGIC.length + 16) ? body : undefined;
  } catch {
    return undefined; // none yet: this run makes it
  }
}

/**
 * Writes the cache of what this run compiled, atomically (runs at once each write their own
 * temporary file and rename it), and removes stale ones. Only for the bundle this entry was built
 * with (a bundle changed since has another hash: no cache), and only into a private folder. Any
 * failure leaves things as they were: the cache only saves time. `command` is a tuned run's command,
 * whose flags are set again first; undefined for a run that is not tuned.
 */
function writeCache(script: Script, source: string, file: string, command: string | undefined): void {
  const folder = path.dirname(file);
  try {
    if (createHash('sha256').update(source).digest('hex').slice(0, 16) !== CLI_BUNDLE_HASH) return;
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    accessSync(folder, constants.W_OK);
    if (!private_(folder, false)) return;
    // The flags a cached run compiles under: a `collect` that grew has changed some since (v8Flags.ts tierUpAsUsual, tuneV8ForLongRun).
    if (command !== undefined) tuneV8(command);
    const body = script.createCachedData();
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.write(CLI_BUNDLE_HASH, MAGIC.length, 'latin1');
    header.writeUInt32LE(body.length, MAGIC.length + 16);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([header, body]), { mode: 0o600 });
    renameSync(temporary, file);
    // Another build's or Node's caches, unused for STALE_MS; never this build's (a cache in use is not rewritten).
    const stale = Date.now() - STALE_MS;
    const current = `-${CLI_BUNDLE_HASH}-`;
    for (const name of readdirSync(folder)) {
      const other = path.join(folder, name);
      if (name.startsWith('cli-') && !(name.includes(current) && name.includes(`-${process.version}-`)) && statSync(other).mtimeMs < stale) rmSync(other, { force: true });
    }
  } catch {
    // not writable, full, removed meanwhile: run without a cache next time too
  }
}

/** Makes the empty file `p`; its name, or undefined when it cannot be made (then the cache is read unmarked). */
function mark(p: string): string | undefined {
  try {
    writeFileSync(p, '', { mode: 0o600, flag: 'wx' });
    return p;
  } catch {
    return undefined;
  }
}

/** Removes the file `p` if it is there (unlinkSync: fs.rmSync loads Node's rimraf on first use, 0.2 MB more at start). */
function unmark(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // gone already
  }
}

/** The V8 options this process runs with, as part of a cache's name: V8 refuses a cache made under other flags, and runs with and without them would each rewrite the other's. */
function optionsTag(): string {
  const text = `${process.execArgv.join(' ')}\u0000${process.env.NODE_OPTIONS ?? ''}`;
  if (text === '\u0000') return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `-o${(h >>> 0).toString(16).padStart(8, '0')}`;
}

const argv = process.argv.slice(2);
const tuned = tunesV8(argv);
// Help texts run other code than `--version`: a cache of one would leave the other's compiling to do.
const kind = tuned ? argv[0]! : argv[0] === 'help' || asksForHelp(argv) ? 'help' : 'other';
const folder = cacheFolder();
/** This kind of run's cache file, in `folder`; undefined for none. */
const file = folder === undefined ? undefined : path.join(folder, `cli-${kind}-${CLI_BUNDLE_HASH}-${statSync(BUNDLE).size}-${process.version}-${process.arch}${optionsTag()}.v8cache`);
// Read before the bundle's source, which took a 4-log `collect`'s peak from 59.9 to 61.3 MB when read
// after it: Node reads the source into a buffer it frees at once, which raises glibc's mmap threshold
// past the cache's size, so the cache's buffer came from the heap and stayed resident once freed.
let cachedData = file === undefined ? undefined : readCache(file);
const source = readFileSync(BUNDLE, 'utf8');
// V8 takes a cache only in a process whose flags are those it was made with (a tuned run's: writeCache
// sets them again). Without a cache the bundle is compiled before the flags change, as it was before
// this entry: compiled after any flag had changed, it took `jobs` from 56.1 to 57.7 MB (issue #12).
if (tuned && cachedData !== undefined) tuneV8(argv[0]);
// Marked while V8 reads the cache (LOADING): a run that dies in V8's deserializer leaves the mark.
const loading = cachedData !== undefined && file !== undefined ? mark(file + LOADING) : undefined;
const script = new Script(source, { filename: BUNDLE, cachedData });
if (loading !== undefined) unmark(loading);
if (tuned && cachedData === undefined) tuneV8(argv[0]);
if (file !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  // Only a run that succeeded: a usage error's run compiles little of what the command needs.
  process.once('exit', (code) => {
    if (code === 0) writeCache(script, source, file, tuned ? argv[0] : undefined);
  });
}
cachedData = undefined; // its 0.3-0.8 MB are not kept through the run
(script.runInThisContext() as BundleFunction).call(module.exports, module.exports, require, module, BUNDLE, __dirname);
