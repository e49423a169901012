/**
 * `spark-optimizer validate PATH…`: the editor's analyzers on the command line, for CI before logs
 * are archived. Prints `file:line:col: severity code message` (1-based) or JSON lines; exit 1 when
 * any error is found.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeConfig, looksLikeConfig } from '../analysis/configAnalyzer';
import { analyzeEventLogFile } from '../analysis/eventLogAnalyzer';
import type { Finding } from '../analysis/findings';
import type { Codec } from '../collectors/eventlog/codecs/index';
import { SKIPPED_FILE, discover, passedOverSummary } from '../collectors/eventlog/discovery';
import { formatProblem, type Problem } from '../collectors/record';
import { UsageError, oneOf, zstdWindowFlag, type Io } from './io';

const CONFIG_NAME = /^\.?spark-optimizer\.ya?ml$/;
const YAML = /\.ya?ml$/;

interface Target {
  file: string;
  kind: 'config' | 'eventlog';
  /** For event logs: the codec their layout names (Spark 1.x folders), when not their file name's. */
  codec?: Codec;
}

async function isConfig(file: string): Promise<boolean> {
  const name = path.basename(file);
  return CONFIG_NAME.test(name) || (YAML.test(name) && looksLikeConfig(await readFile(file, 'utf8')));
}

/**
 * The files `validate` checks under a target: the event logs `collect` would read (the same
 * discovery, so both see the same set) and the collector configs among the files it passes over.
 * A file named explicitly is checked whatever its name.
 */
async function* targets(target: string, passedOver: Problem[]): AsyncGenerator<Target> {
  const st = await stat(target);
  if (st.isFile()) {
    yield { file: target, kind: (await isConfig(target)) ? 'config' : 'eventlog', codec: undefined };
    return;
  }
  for await (const found of discover(target)) {
    if (!('severity' in found)) {
      for (const f of found.files) yield { file: f.path, kind: 'eventlog', codec: f.codec };
    } else if (found.code === SKIPPED_FILE && found.file !== undefined && (await isConfig(found.file))) {
      yield { file: found.file, kind: 'config' };
    } else {
      passedOver.push(found);
    }
  }
}

export async function analyzeFile(file: string, kind: Target['kind'], codec?: Codec, maxZstdWindowMb?: number): Promise<Finding[]> {
  if (kind === 'config') return analyzeConfig(await readFile(file, 'utf8'), { baseDir: path.dirname(file), exists: existsSync });
  const siblings = (await readdir(path.dirname(file))).filter((n) => n !== path.basename(file));
  return analyzeEventLogFile(file, { siblings, codec, maxZstdWindowMb });
}

export async function validateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { format: { type: 'string' }, verbose: { type: 'boolean', default: false }, 'zstd-max-window-mb': { type: 'string' } }, strict: true, allowPositionals: true });
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  const maxZstdWindowMb = zstdWindowFlag(values['zstd-max-window-mb']);
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or folder');
  let errors = 0;
  let warnings = 0;
  let checked = 0;
  const passedOver: Problem[] = [];
  for (const target of positionals) {
    const abs = path.resolve(io.cwd, target);
    if (!existsSync(abs)) {
      io.err(`spark-optimizer: ${abs} does not exist`);
      errors++;
      continue;
    }
    for await (const { file, kind, codec } of targets(abs, passedOver)) {
      checked++;
      for (const f of await analyzeFile(file, kind, codec, maxZstdWindowMb)) {
        if (f.severity === 'error') errors++;
        if (f.severity === 'warning') warnings++;
        const line = f.range.start.line + 1;
        const column = f.range.start.character + 1;
        if (format === 'json') io.out(JSON.stringify({ file, line, column, severity: f.severity, code: f.code, message: f.message }));
        else io.out(`${file}:${line}:${column}: ${f.severity} ${f.code} ${f.message}`);
      }
    }
  }
  for (const p of passedOver) {
    if (p.severity === 'error') errors++;
    if (p.severity !== 'info' || values.verbose) io.err(formatProblem(p));
  }
  const summary = passedOverSummary(passedOver);
  const passed = summary === null ? '' : `; ${summary}${values.verbose ? '' : '; --verbose lists them'}`;
  io.err(`${checked} files checked: ${errors} errors, ${warnings} warnings${passed}`);
  return errors > 0 ? 1 : 0;
}
