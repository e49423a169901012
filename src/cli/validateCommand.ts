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
import { UsageError, oneOf, type Io } from './io';

const CONFIG_NAME = /^\.?spark-optimizer\.ya?ml$/;
const YAML = /\.ya?ml$/;
const LOG_NAME = /^(events_\d+_.+|eventlog(-.+)?|(app|application|local|spark)[-_][^.]*(\.(lz4|lzf|snappy|zstd|zst|gz))?(\.inprogress)?)$/;

type Kind = 'config' | 'eventlog' | null;

async function kindOf(file: string, explicit: boolean): Promise<Kind> {
  const name = path.basename(file);
  if (CONFIG_NAME.test(name)) return 'config';
  if (YAML.test(name)) return looksLikeConfig(await readFile(file, 'utf8')) ? 'config' : null;
  if (LOG_NAME.test(name) || explicit) return 'eventlog';
  return null;
}

async function* files(target: string): AsyncGenerator<{ file: string; explicit: boolean }> {
  const st = await stat(target);
  if (st.isFile()) {
    yield { file: target, explicit: true };
    return;
  }
  for (const entry of (await readdir(target, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') && !CONFIG_NAME.test(entry.name)) continue;
    const p = path.join(target, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile()) yield { file: p, explicit: false };
  }
}

export async function analyzeFile(file: string, kind: Exclude<Kind, null>): Promise<Finding[]> {
  if (kind === 'config') return analyzeConfig(await readFile(file, 'utf8'), { baseDir: path.dirname(file), exists: existsSync });
  const siblings = (await readdir(path.dirname(file))).filter((n) => n !== path.basename(file));
  return analyzeEventLogFile(file, { siblings });
}

export async function validateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { format: { type: 'string' } }, strict: true, allowPositionals: true });
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or folder');
  let errors = 0;
  let warnings = 0;
  let checked = 0;
  for (const target of positionals) {
    const abs = path.resolve(io.cwd, target);
    if (!existsSync(abs)) {
      io.err(`spark-optimizer: ${abs} does not exist`);
      errors++;
      continue;
    }
    for await (const { file, explicit } of files(abs)) {
      const kind = await kindOf(file, explicit);
      if (kind === null) continue;
      checked++;
      for (const f of await analyzeFile(file, kind)) {
        if (f.severity === 'error') errors++;
        if (f.severity === 'warning') warnings++;
        const line = f.range.start.line + 1;
        const column = f.range.start.character + 1;
        if (format === 'json') io.out(JSON.stringify({ file, line, column, severity: f.severity, code: f.code, message: f.message }));
        else io.out(`${file}:${line}:${column}: ${f.severity} ${f.code} ${f.message}`);
      }
    }
  }
  io.err(`${checked} files checked: ${errors} errors, ${warnings} warnings`);
  return errors > 0 ? 1 : 0;
}
