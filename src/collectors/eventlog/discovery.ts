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
 * Hidden files and folders (Spark's `.crc` side files among them) are skipped.
 */
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../record';
import { codecFromName, type Codec } from './codecs/index';

export type Layout = 'single' | 'rolling' | 'databricks';

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
}

const ROLLING_DIR = /^eventlog_v2_(.+)$/;
const ROLLING_FILE = /^events_(\d+)_(.+?)(\.compact)?$/;
const APP_STATUS = /^appstatus_/;
const DATABRICKS_CURRENT = 'eventlog';
const DATABRICKS_ROLLED = /^eventlog-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2})(\.[a-z0-9]+)?$/;
const CODEC_SUFFIX = /\.(lz4|lzf|snappy|zstd|zst|gz)$/;
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

async function fileInfo(p: string, st?: Stats): Promise<LogFile> {
  const s = st ?? (await fs.stat(p));
  return { path: p, codec: codecFromName(path.basename(p)), size: s.size, mtimeMs: s.mtimeMs };
}

async function rollingUnit(dir: string, names: string[]): Promise<LogUnit | Problem> {
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
  const files = await Promise.all(used.map((e) => fileInfo(path.join(dir, e.name))));
  return {
    layout: 'rolling',
    path: dir,
    files,
    appIdHint: m ? m[1]! : path.basename(dir),
    inProgress,
    compacted: used[0]!.compact,
  };
}

async function databricksUnit(dir: string, names: string[]): Promise<LogUnit> {
  const rolled = names.filter((n) => DATABRICKS_ROLLED.test(n)).sort();
  const ordered = names.includes(DATABRICKS_CURRENT) ? [...rolled, DATABRICKS_CURRENT] : rolled;
  const files = await Promise.all(ordered.map((n) => fileInfo(path.join(dir, n))));
  // Databricks keeps writing `eventlog` while the cluster runs; completion is read from the content.
  return { layout: 'databricks', path: dir, files, appIdHint: path.basename(dir), inProgress: false, compacted: false };
}

function isDatabricksDir(names: string[]): boolean {
  return names.includes(DATABRICKS_CURRENT) || names.some((n) => DATABRICKS_ROLLED.test(n));
}

async function singleUnit(file: string, st?: Stats): Promise<LogUnit> {
  const { base, inProgress } = stripSuffixes(path.basename(file));
  return { layout: 'single', path: file, files: [await fileInfo(file, st)], appIdHint: base, inProgress, compacted: false };
}

/**
 * Walks `root` and yields one unit per application attempt as it finds them (never building the
 * whole list first), plus problems for what cannot be read. `root` may be a log file, a rolling or
 * Databricks folder, or any folder of logs.
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
    yield await singleUnit(root, st);
    return;
  }
  yield* walk(root, recursive);
}

async function* walk(dir: string, recursive: boolean): AsyncGenerator<LogUnit | Problem> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    yield { severity: 'error', code: 'path-unreadable', message: `cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file: dir };
    return;
  }
  const names = entries.map((e) => e.name);
  const fileNames = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
  if (ROLLING_DIR.test(path.basename(dir))) {
    yield await rollingUnit(dir, names);
    return;
  }
  if (isDatabricksDir(fileNames)) {
    yield await databricksUnit(dir, fileNames);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const s = await fs.stat(p);
        isDir = s.isDirectory();
        isFile = s.isFile();
      } catch {
        yield { severity: 'warning', code: 'path-unreadable', message: `broken symbolic link ${p}`, file: p };
        continue;
      }
    }
    if (isDir) {
      if (ROLLING_DIR.test(entry.name) || recursive) yield* walk(p, recursive);
    } else if (isFile && looksLikeSingleLog(entry.name)) {
      try {
        yield await singleUnit(p);
      } catch (err) {
        yield { severity: 'error', code: 'path-unreadable', message: `cannot read ${p}: ${String(err)}`, file: p };
      }
    }
  }
}
