/**
 * Reads one application attempt (a LogUnit: one file, or the ordered files of a rolling or
 * Databricks folder) into its record: disk -> codec -> lines -> replay, streamed end to end so
 * memory does not grow with the log.
 */
import { createReadStream } from 'node:fs';
import type { Problem, SparkAppRecord } from '../record';
import { validateRecord, Quality } from '../record';
import { CodecError, decode } from './codecs/index';
import type { LogUnit } from './discovery';
import { splitLines } from './lines';
import { AppReplay } from './replay';

export interface ReadOptions {
  source: string;
  /** Longest line kept; longer ones are skipped with a problem. Spark's longest real lines (SQL plans) are a few MB. */
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** Called with compressed bytes read from disk as they are read. */
  onBytes?: (bytes: number) => void;
}

export interface UnitResult {
  record: SparkAppRecord | null;
  problems: Problem[];
}

const DEFAULT_MAX_LINE = 256 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

async function* readFileChunks(file: string, signal: AbortSignal | undefined, onBytes: ((n: number) => void) | undefined): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

export async function readUnit(unit: LogUnit, options: ReadOptions): Promise<UnitResult> {
  const replay = new AppReplay({
    appId: unit.appIdHint,
    source: options.source,
    inProgress: unit.inProgress,
    tags: { log_layout: unit.layout, log_codec: [...new Set(unit.files.map((f) => f.codec))].join(',') },
  });
  if (unit.compacted) replay.flag(Quality.compacted);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;

  for (const [i, file] of unit.files.entries()) {
    replay.beginFile(file.path);
    const last = i === unit.files.length - 1;
    try {
      const split = await splitLines(
        decode(file.codec, readFileChunks(file.path, options.signal, options.onBytes), file.path),
        (buf, start, end, lineNo) => replay.line(buf, start, end, lineNo),
        maxLine,
        (lineNo, bytes) =>
          replay.problem('error', 'line-too-long', `line ${lineNo} is ${(bytes / 2 ** 20).toFixed(1)} MB, over the ${(maxLine / 2 ** 20).toFixed(0)} MB limit; skipped`, lineNo),
      );
      const tailLine = split.lines + 1;
      if (split.tail && !replay.lastLine(split.tail, tailLine)) {
        // A broken last line is normal while Spark is still writing; elsewhere it means a cut-off copy.
        const stillWriting = last && unit.inProgress;
        if (!stillWriting) replay.flag(Quality.truncated);
        replay.problem(stillWriting ? 'info' : 'warning', 'truncated-line', `last line ${tailLine} is cut off (no newline, not complete JSON): the file was cut off or is still being written`, tailLine);
      }
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (err instanceof CodecError) {
        replay.flag(Quality.truncated);
        // Same rule as a broken last line: expected while Spark writes, suspicious in a finished log, an error mid-way.
        const severity = !err.truncated || !last ? 'error' : unit.inProgress ? 'info' : 'warning';
        replay.problem(severity, err.truncated ? 'codec-truncated' : 'codec-corrupt', err.problem, undefined);
      } else {
        const code = (err as NodeJS.ErrnoException).code;
        replay.problem('error', 'read-failed', `cannot read ${file.path}: ${code ?? (err as Error).message}`, undefined);
      }
    }
    replay.endFile();
  }

  const record = replay.finish();
  const problems = replay.problems;
  if (record === null) {
    if (!problems.some((p) => p.severity === 'error')) {
      problems.push({ severity: 'error', code: 'not-an-event-log', message: `no Spark listener event found in ${unit.path}`, file: unit.path });
    }
    return { record: null, problems };
  }
  problems.push(...validateRecord(record, unit.path));
  return { record, problems };
}
