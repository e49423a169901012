/**
 * Finds event logs under a path and groups their files into one unit per application attempt.
 *
 * Layouts (Spark's `EventLogFileWriters.scala` / `EventLogFileReaders.scala`):
 * - single file: `<appId>[_<attempt>][.<codec>][.inprogress]`
 * - rolling folder: `eventlog_v2_<appId>[_<attempt>]/` with `events_<N>_<appId>[.<codec>][.compact]`
 *   read in index order from the last `.compact` file on (what `RollingEventLogFilesFileReader`
 *   does: a compact file replaces every file before it), and `appstatus_<appId>[.inprogress]`
 * - Databricks cluster log delivery: a folder with `eventlog` (current) and rolled
 *   `eventlog-YYYY-MM-DD--HH-MM[.gz]` files, oldest first, `eventlog` last.
 * - Spark ≤ 1.2 (`FileLogger`): a folder named after the app holding `EVENT_LOG_<N>`,
 *   `SPARK_VERSION_<version>`, `APPLICATION_COMPLETE` once it ended, and `COMPRESSION_CODEC_<codec>`
 *   when compressed (a short name or the codec's class name).
 * Every file a folder scan passes over is said, never dropped silently: hidden files (Spark's `.crc`
 * side files among them) and files that are not event logs by name or first bytes come back as
 * `info` problems with code `skipped-file`, which the CLI counts and `--verbose` lists. The CLI's
 * `collect` and `validate` and the editor all discover through here, so they see the same logs.
 * Each real folder is walked once (by device and inode), so symbolic-link loops end.
 */
import { promises as fs, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { plural } from '../../common/format';
import type { Problem } from '../record';
import { CODEC_SUFFIXES, codecFromName, type Codec } from './codecs/index';

export type Layout = 'single' | 'rolling' | 'databricks' | 'legacy';

export interface LogFile {
  path: string;
  codec: Codec;
  size: number;
  mtimeMs: number;
}

export interface LogUnit {
  layout: Layout;
  /** The file (single) or folder (rolling, Databricks) that holds the attempt. */
  path: string;
  files: LogFile[];
  /** App id from the name, for logs without a SparkListenerApplicationStart. */
  appIdHint: string;
  inProgress: boolean;
  compacted: boolean;
  /** Spark ≤ 1.2 folders name their version in a file (`SPARK_VERSION_1.2.0`); their logs have no LogStart. */
  sparkVersion?: string;
  /** A rolling log's parts that are not in its folder (rollingGaps): its record is incomplete. */
  missingParts?: number[];
}

/**
 * The parts of a rolling log missing below `upTo`: the indexes from the last compacted part (or 1)
 * that are not `present`. One rule for collection (a unit's gaps) and the editor's analyzer (the
 * gaps before the part it checks).
 */
export function rollingGaps(present: ReadonlySet<number>, compactFrom: number, upTo: number): number[] {
  const missing: number[] = [];
  for (let i = Math.max(1, compactFrom); i <= upTo; i++) if (!present.has(i)) missing.push(i);
  return missing;
}

/** A rolling-part-missing problem's words, for the parts `missing` of the log at `where`. */
export function rollingGapText(missing: readonly number[]): string {
  return `part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing from the folder`;
}

/** The code of the info problems that say which files a folder scan passed over and why. */
export const SKIPPED_FILE = 'skipped-file';
/** The code of the warning that a rolling log lacks parts (collection and the editor's analyzer). */
export const ROLLING_PART_MISSING = 'rolling-part-missing';

const ROLLING_DIR = /^eventlog_v2_(.+)$/;
const ROLLING_FILE = /^events_(\d+)_(.+?)(\.compact)?$/;
const APP_STATUS = /^appstatus_/;
const DATABRICKS_CURRENT = 'eventlog';
/** A Databricks rolled part, `eventlog-<yyyy-mm-dd--hh-mm>[.codec]` (the analyzer places a log among them by the same rule). */
export const DATABRICKS_ROLLED = /^eventlog-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2})(\.[a-z0-9]+)?$/;
const CODEC_SUFFIX = new RegExp(`\\.(${CODEC_SUFFIXES.join('|')})$`);
const LEGACY_LOG = /^EVENT_LOG_(\d+)$/;
const LEGACY_VERSION = /^SPARK_VERSION_(.+)$/;
const LEGACY_CODEC = /^COMPRESSION_CODEC_(.+)$/;
const LEGACY_COMPLETE = 'APPLICATION_COMPLETE';
/** The files a rolling or Spark 1.x folder holds besides its logs, which say how to read them. */
const KNOWN_MARKERS = [APP_STATUS, LEGACY_VERSION, LEGACY_CODEC, new RegExp(`^${LEGACY_COMPLETE}$`)];
/** Spark 1.x codec short names and class names (`org.apache.spark.io.LZFCompressionCodec`). */
const LEGACY_CODECS: Record<string, Codec> = { lzf: 'lzf', lz4: 'lz4', snappy: 'snappy', zstd: 'zstd' };
/** A plain event log's first bytes, for files whose name does not say they are one. */
const EVENT_START = Buffer.from('{"Event":"');
const INPROGRESS = '.inprogress';

function stripSuffixes(name: string): { base: string; inProgress: boolean } {
  const inProgress = name.endsWith(INPROGRESS);
  const noProgress = inProgress ? name.slice(0, -INPROGRESS.length) : name;
  return { base: noProgress.replace(CODEC_SUFFIX, ''), inProgress };
}

/** A single-file event log's name: an app id (no dots) plus optional codec and `.inprogress`. */
function looksLikeSingleLog(name: string): boolean {
  const { base } = stripSuffixes(name);
  return base.length > 0 && !base.includes('.');
}

/**
 * Spark's app ids hold digits (`local-…`, `app-…`, `application_…`, `spark-<uuid>`); a dotless plain
 * name without one (`README`, `LICENSE`, a script) is read only if it does not start as other text
 * (startsAsOtherText; a review: such files were read, and each counted as a failed log).
 */
function namedLikeAppId(name: string): boolean {
  return /\d/.test(name) || stripSuffixes(name).base !== name;
}

/**
 * A file's size and time. Synchronous on purpose: an awaited stat is a thread-pool round trip, and
 * discovery runs in the CLI or a worker thread, never on the editor's; 10,000 small logs spent
 * 0.8 s of the main thread on them.
 */
function fileInfo(p: string, st?: Stats): LogFile {
  const s = st ?? statSync(p);
  return { path: p, codec: codecFromName(path.basename(p)), size: s.size, mtimeMs: s.mtimeMs };
}

function rollingUnit(dir: string, names: string[]): LogUnit | Problem {
  const m = ROLLING_DIR.exec(path.basename(dir));
  const byIndex = new Map<number, { index: number; name: string; compact: boolean }>();
  let inProgress = true;
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (APP_STATUS.test(name)) inProgress = name.endsWith(INPROGRESS);
    const f = ROLLING_FILE.exec(name);
    if (!f) continue;
    const e = { index: Number(f[1]), name, compact: f[3] !== undefined };
    // Compaction writes `events_N_….compact` next to `events_N_…` and then deletes the original; if both are still there, the compact one wins.
    if (!byIndex.get(e.index)?.compact) byIndex.set(e.index, e);
  }
  const events = [...byIndex.values()];
  if (events.length === 0) {
    return { severity: 'error', code: 'rolling-empty', message: `rolling event-log folder has no events_<N>_… files`, file: dir };
  }
  events.sort((a, b) => a.index - b.index);
  let from = 0;
  events.forEach((e, i) => {
    if (e.compact) from = i;
  });
  const used = events.slice(from);
  const files = used.map((e) => fileInfo(path.join(dir, e.name)));
  const missingParts = rollingGaps(new Set(used.map((e) => e.index)), used[0]!.compact ? used[0]!.index : 1, used.at(-1)!.index);
  return {
    layout: 'rolling',
    path: dir,
    files,
    appIdHint: m ? m[1]! : path.basename(dir),
    inProgress,
    compacted: used[0]!.compact,
    ...(missingParts.length > 0 ? { missingParts } : {}),
  };
}

function databricksUnit(dir: string, names: string[]): LogUnit {
  const rolled = names.filter((n) => DATABRICKS_ROLLED.test(n)).sort();
  const ordered = names.includes(DATABRICKS_CURRENT) ? [...rolled, DATABRICKS_CURRENT] : rolled;
  const files = ordered.map((n) => fileInfo(path.join(dir, n)));
  // Databricks keeps writing `eventlog` while the cluster runs; completion is read from the content.
  return { layout: 'databricks', path: dir, files, appIdHint: path.basename(dir), inProgress: false, compacted: false };
}

function legacyUnit(dir: string, names: string[]): LogUnit | Problem {
  const codecName = names.map((n) => LEGACY_CODEC.exec(n)?.[1]).find((c) => c !== undefined);
  const short = codecName?.toLowerCase().replace(/^org\.apache\.spark\.io\./, '').replace(/compressioncodec$/, '');
  const codec: Codec | undefined = short === undefined ? 'none' : LEGACY_CODECS[short];
  if (codec === undefined) {
    return { severity: 'error', code: 'codec-unknown', message: `Spark 1.x log folder names an unknown compression codec ${JSON.stringify(codecName)}`, file: dir };
  }
  const logs = names
    .map((n) => ({ n, m: LEGACY_LOG.exec(n) }))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
  return {
    layout: 'legacy',
    path: dir,
    files: logs.map((l) => ({ ...fileInfo(path.join(dir, l.n)), codec })),
    appIdHint: path.basename(dir),
    inProgress: !names.includes(LEGACY_COMPLETE),
    compacted: false,
    sparkVersion: names.map((n) => LEGACY_VERSION.exec(n)?.[1]).find((v) => v !== undefined),
  };
}

function isLegacyDir(names: string[]): boolean {
  return names.some((n) => LEGACY_LOG.test(n));
}

function isDatabricksDir(names: string[]): boolean {
  return names.includes(DATABRICKS_CURRENT) || names.some((n) => DATABRICKS_ROLLED.test(n));
}

function singleUnit(file: string, st?: Stats): LogUnit {
  const { base, inProgress } = stripSuffixes(path.basename(file));
  return { layout: 'single', path: file, files: [fileInfo(file, st)], appIdHint: base, inProgress, compacted: false };
}

/**
 * Walks `root` and yields one unit per application attempt as it finds them (never building the
 * whole list first), plus problems for what cannot be read and `skipped-file` infos for what is
 * passed over. `root` may be a log file, a rolling, Databricks or Spark 1.x folder, or any folder of logs.
 */
export async function* discover(root: string, recursive = true): AsyncGenerator<LogUnit | Problem> {
  let st: Stats;
  try {
    st = await fs.stat(root);
  } catch (err) {
    yield { severity: 'error', code: 'path-unreadable', message: `cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file: root };
    return;
  }
  if (st.isFile()) {
    // Named explicitly: read whatever its name (a Spark 1.x EVENT_LOG_1 file names its folder).
    yield LEGACY_LOG.test(path.basename(root)) ? await legacyOrSingle(root) : singleUnit(root, st);
    return;
  }
  yield* walk(root, recursive, new Set([`${st.dev}:${st.ino}`]));
}

/**
 * An `EVENT_LOG_<N>` file given on its own is read as its Spark 1.x folder's attempt: with the codec,
 * version and completion its folder's files name, and of the folder's logs only this one (a
 * neighbour that cannot be read is not this one's problem). A folder that cannot be listed names
 * none of them: the file is then read as it is named.
 */
async function legacyOrSingle(file: string): Promise<LogUnit | Problem> {
  const dir = path.dirname(file);
  const names = await fs.readdir(dir).catch(() => null);
  if (names === null) return singleUnit(file);
  const own = path.basename(file);
  return legacyUnit(dir, names.filter((n) => !LEGACY_LOG.test(n) || n === own));
}

/** A passed-over file: its message is why (formatProblem puts the file and the code before it). */
function skipped(file: string, why: string): Problem {
  return { severity: 'info', code: SKIPPED_FILE, message: why, file };
}

/** `N files passed over (k <reason>, …)` for the skipped-file infos among `problems`; null when there are none. */
export function passedOverSummary(problems: readonly Problem[]): string | null {
  const reasons = new Map<string, number>();
  for (const p of problems) {
    if (p.code !== SKIPPED_FILE) continue;
    reasons.set(p.message, (reasons.get(p.message) ?? 0) + 1);
  }
  if (reasons.size === 0) return null;
  const total = [...reasons.values()].reduce((a, b) => a + b, 0);
  return `${plural(total, 'file')} passed over (${[...reasons].map(([why, n]) => `${n} ${why}`).join(', ')})`;
}

/** Whether a file whose name does not say so is a plain event log all the same (its first bytes). */
async function startsLikeEventLog(file: string): Promise<boolean> {
  let fh: import('node:fs/promises').FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const head = Buffer.alloc(EVENT_START.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(EVENT_START);
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/**
 * Whether a file starts as text that is no event log: readable, not empty, no control bytes in its
 * first 256, and its first character (after a byte-order mark and blanks) not `{`. An empty file, an
 * unreadable one and binary bytes are read as a log, so that what is wrong with them is reported.
 */
async function startsAsOtherText(file: string): Promise<boolean> {
  let fh: import('node:fs/promises').FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const head = Buffer.alloc(256);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    let i = bytesRead >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    for (let j = i; j < bytesRead; j++) {
      const c = head[j]!;
      if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    }
    while (i < bytesRead && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
    return i < bytesRead && head[i] !== 0x7b;
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/** Files a name that makes a folder one application's (rolling, Databricks, Spark 1.x) are read whole; the rest of it is passed over, and said so. */
function* leftOut(unit: LogUnit, entries: import('node:fs').Dirent[]): Generator<Problem> {
  const read = new Set(unit.files.map((f) => path.basename(f.path)));
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of sorted) {
    if (read.has(e.name) || KNOWN_MARKERS.some((r) => r.test(e.name))) continue;
    const p = path.join(unit.path, e.name);
    if (e.name.startsWith('.')) yield skipped(p, 'hidden');
    else if (unit.layout === 'rolling' && ROLLING_FILE.test(e.name)) yield skipped(p, 'a rolling part a compacted part replaces');
    else yield skipped(p, `not a part of the ${unit.layout} event log in its folder`);
  }
}

async function* walk(dir: string, recursive: boolean, visited: Set<string>): AsyncGenerator<LogUnit | Problem> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    yield { severity: 'error', code: 'path-unreadable', message: `cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file: dir };
    return;
  }
  const names = entries.map((e) => e.name);
  const fileNames = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
  const unit = ROLLING_DIR.test(path.basename(dir))
    ? rollingUnit(dir, names)
    : isDatabricksDir(fileNames)
      ? databricksUnit(dir, fileNames)
      : isLegacyDir(fileNames)
        ? legacyUnit(dir, fileNames)
        : undefined;
  if (unit !== undefined) {
    yield unit;
    if ('layout' in unit) yield* leftOut(unit, entries);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    if (entry.name.startsWith('.')) {
      yield skipped(p, 'hidden');
      continue;
    }
    // Folders and links are stat'ed once: a link's target decides what it is, a folder's device and
    // inode whether it was walked already.
    let st: Stats | undefined;
    if (entry.isSymbolicLink() || entry.isDirectory()) {
      try {
        st = statSync(p);
      } catch (err) {
        yield entry.isSymbolicLink()
          ? { severity: 'warning', code: 'path-unreadable', message: `broken symbolic link ${p}`, file: p }
          : { severity: 'error', code: 'path-unreadable', message: `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file: p };
        continue;
      }
    }
    if (st?.isDirectory()) {
      if (!ROLLING_DIR.test(entry.name) && !recursive) {
        yield skipped(p, 'a folder, and the scan is not recursive');
        continue;
      }
      const id = `${st.dev}:${st.ino}`;
      if (visited.has(id)) {
        yield skipped(p, 'a folder already scanned (through a symbolic link)');
        continue;
      }
      visited.add(id);
      yield* walk(p, recursive, visited);
    } else if (st?.isFile() ?? entry.isFile()) {
      if (looksLikeSingleLog(entry.name) ? !namedLikeAppId(entry.name) && (await startsAsOtherText(p)) : !(await startsLikeEventLog(p))) {
        yield skipped(p, 'not an event log (by its name and first bytes)');
        continue;
      }
      try {
        yield singleUnit(p, st);
      } catch (err) {
        yield { severity: 'error', code: 'path-unreadable', message: `cannot read ${p}: ${String(err)}`, file: p };
      }
    } else {
      yield skipped(p, 'not a regular file');
    }
  }
}
