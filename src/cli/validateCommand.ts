/**
 * `spark-optimizer validate PATH…`: the editor's analyzers on the command line, for CI before logs
 * are archived. Prints `file:line:col: severity code message` (1-based) or JSON lines; exit 1 when
 * any error is found.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeConfig, looksLikeConfig } from '../analysis/configAnalyzer';
import { analyzeEventLogFile, readFailure, type EventLogFileOptions } from '../analysis/eventLogAnalyzer';
import { FolderNames } from '../analysis/folderNames';
import { formatFinding, range, type Finding, type FindingSeverity } from '../analysis/findings';
import type { Codec } from '../collectors/eventlog/codecs/index';
import { SKIPPED_FILE, discover, passedOverSummary } from '../collectors/eventlog/discovery';
import { formatProblem, type Problem } from '../collectors/record';
import { groupDigits, plural, visible } from '../common/format';
import { UsageError, decompressionRatioFlag, maxLineFlag, oneOf, zstdWindowFlag, type Io } from './io';

const CONFIG_NAME = /^\.?spark-optimizer\.ya?ml$/;
const YAML = /\.ya?ml$/;

interface Target {
  file: string;
  kind: 'config' | 'eventlog';
  /** For event logs: the codec their layout names (Spark 1.x folders), when not their file name's. */
  codec?: Codec;
  /** For event logs: whether discovery found the log still being written (its last file only: the one being written). */
  inProgress?: boolean;
  /** For a Spark 1.x folder's logs: the version its SPARK_VERSION_x file names. */
  sparkVersion?: string;
}

/** Whether a file is a collector config; a YAML file that cannot be read counts as one, so that reading it reports why. */
async function isConfig(file: string): Promise<boolean> {
  const name = path.basename(file);
  if (CONFIG_NAME.test(name)) return true;
  if (!YAML.test(name)) return false;
  try {
    return looksLikeConfig(await readFile(file, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * The files `validate` checks under a target: the event logs `collect` would read (the same
 * discovery, so both see the same set) and the collector configs among the files it passes over.
 * A file named explicitly is checked whatever its name.
 */
async function* targets(target: string, passedOver: Problem[], recursive: boolean): AsyncGenerator<Target> {
  const st = await stat(target);
  if (st.isFile() && (await isConfig(target))) {
    yield { file: target, kind: 'config' };
    return;
  }
  // A log named explicitly is checked whatever its name, read as collect reads it: a Spark 1.x
  // EVENT_LOG_1 with the codec its folder names (COMPRESSION_CODEC_x), not as plain text; a folder
  // naming a codec Spark does not have is a problem of its own, and nothing is checked.
  for await (const found of discover(target, recursive)) {
    if (!('severity' in found)) {
      for (const [i, f] of found.files.entries()) yield { file: f.path, kind: 'eventlog', codec: f.codec, inProgress: found.inProgress && i === found.files.length - 1, sparkVersion: found.sparkVersion };
    } else if (found.code === SKIPPED_FILE && found.file !== undefined && (await isConfig(found.file))) {
      yield { file: found.file, kind: 'config' };
    } else {
      passedOver.push(found);
    }
  }
}

/** The limits `validate` reads event logs with, the same as `collect`'s (readLog.ts ReadLimits). */
export type ValidateLimits = Pick<EventLogFileOptions, 'maxZstdWindowMb' | 'maxLineBytes' | 'maxDecompressionRatio'>;

async function analyzeFile(target: Target, limits: ValidateLimits, folders: FolderNames): Promise<Finding[]> {
  const { file, kind, codec, inProgress, sparkVersion } = target;
  if (kind === 'config') return analyzeConfig(await readFile(file, 'utf8'), { baseDir: path.dirname(file), exists: existsSync });
  return analyzeEventLogFile(file, { siblings: await folders.siblingsOf(file), codec, inProgress, sparkVersion, ...limits });
}

/**
 * One file's findings, whatever happens while checking it: a file that cannot be read, or a check
 * that fails, is an error finding on that file, and the other files are still checked (issue 13:
 * one EACCES, or one time no date can hold, ended the whole run naming no file).
 */
async function checkFile(target: Target, limits: ValidateLimits, folders: FolderNames): Promise<Finding[]> {
  try {
    return await analyzeFile(target, limits, folders);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const at = range(0, 0, 0, 0);
    if (typeof code === 'string') return [{ range: at, severity: 'error', code: 'read-failed', message: readFailure(code, err as Error) }];
    return [{ range: at, severity: 'error', code: 'check-failed', message: `Checking this file failed: ${err instanceof Error ? err.message : String(err)}. The other files were still checked; please report this with the file if you can.` }];
  }
}

const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const satisfies readonly FindingSeverity[];
/** Severities from the most severe (0); `--min-severity S` shows those ranked at or above S. */
const RANK: Readonly<Record<FindingSeverity, number>> = { error: 0, warning: 1, information: 2, hint: 3 };

/**
 * Findings with the same code on the same line as one, their messages joined: an event log's
 * EnvironmentUpdate line gets one `defaulted-property` line for the properties it leaves out, not
 * one per property. The first finding's range and severity stand for the group.
 */
export function foldedByLine(findings: readonly Finding[]): Finding[] {
  const groups = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.range.start.line}\u0000${f.severity}\u0000${f.code}`;
    const first = groups.get(key);
    groups.set(key, first === undefined ? f : { ...first, message: `${first.message} ${f.message}` });
  }
  return [...groups.values()];
}

/** "; 6 information findings not shown (--min-severity information)" for the findings held back, or ''. */
function hiddenNote(hidden: ReadonlyMap<FindingSeverity, number>): string {
  if (hidden.size === 0) return '';
  const bySeverity = SEVERITIES.filter((s) => hidden.has(s));
  const total = [...hidden.values()].reduce((a, b) => a + b, 0);
  const counts = bySeverity.map((s) => `${groupDigits(hidden.get(s)!)} ${s}`).join(' and ');
  return `; ${counts} ${total === 1 ? 'finding' : 'findings'} not shown (--min-severity ${bySeverity.at(-1)!})`;
}

export async function validateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'no-recursive': { type: 'boolean', default: false },
      'min-severity': { type: 'string' },
      'zstd-max-window-mb': { type: 'string' },
      'max-line-mb': { type: 'string' },
      'max-decompression-ratio': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  const least = RANK[oneOf('min-severity', values['min-severity'], SEVERITIES, 'warning')];
  const limits: ValidateLimits = {
    maxZstdWindowMb: zstdWindowFlag(values['zstd-max-window-mb']),
    maxLineBytes: maxLineFlag(values['max-line-mb']),
    maxDecompressionRatio: decompressionRatioFlag(values['max-decompression-ratio']),
  };
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or folder');
  let errors = 0;
  let warnings = 0;
  let checked = 0;
  const hidden = new Map<FindingSeverity, number>();
  const passedOver: Problem[] = [];
  const folders = new FolderNames();
  for (const target of positionals) {
    const abs = path.resolve(io.cwd, target);
    if (!existsSync(abs)) {
      io.err(`spark-optimizer: ${abs} does not exist`);
      errors++;
      continue;
    }
    try {
      for await (const target of targets(abs, passedOver, !values['no-recursive'])) {
        const { file } = target;
        checked++;
        const findings = await checkFile(target, limits, folders);
        for (const f of findings) {
          if (f.severity === 'error') errors++;
          if (f.severity === 'warning') warnings++;
          // Errors and warnings are counted in the summary, shown or not.
          if (RANK[f.severity] > least && RANK[f.severity] > RANK.warning) hidden.set(f.severity, (hidden.get(f.severity) ?? 0) + 1);
        }
        const shown = findings.filter((f) => RANK[f.severity] <= least);
        // JSON keeps one object per finding; text prints the findings of one code on one line as one (issue 16:
        // three defaulted-property lines per log).
        for (const f of format === 'json' ? shown : foldedByLine(shown)) {
          const line = f.range.start.line + 1;
          const column = f.range.start.character + 1;
          // A message may quote a key or a line with an invisible character (a BOM): shown as an escape, as on stderr.
          const message = visible(f.message);
          if (format === 'json') io.out(JSON.stringify({ file, line, column, severity: f.severity, code: f.code, message }));
          // The file's name too: a name may hold an escape sequence (a review), which a terminal would obey.
          else io.out(visible(formatFinding(file, { ...f, message })));
        }
      }
    } catch (err) {
      // The target itself (not one file under it) could not be listed; the other targets are still checked.
      io.err(`spark-optimizer: cannot read ${abs}: ${err instanceof Error ? err.message : String(err)}`);
      errors++;
    }
  }
  for (const p of passedOver) {
    if (p.severity === 'error') errors++;
    if (p.severity !== 'info' || values.verbose) io.err(visible(formatProblem(p)));
  }
  const summary = passedOverSummary(passedOver);
  const passed = summary === null ? '' : `; ${summary}${values.verbose ? '' : '; --verbose lists them'}`;
  const notShown = hiddenNote(hidden);
  io.err(`${plural(checked, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${notShown}${passed}`);
  return errors > 0 ? 1 : 0;
}
