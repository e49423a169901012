/**
 * Reads one application attempt (a LogUnit: one file, or the ordered files of a rolling or
 * Databricks folder) into its record: disk -> codec -> lines -> replay, streamed end to end so
 * memory does not grow with the log.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileReadResult } from 'node:fs/promises';
import { TRUNCATED_LINE, codecFailureSeverity, truncatedLineMessage } from '../../common/lineProblems';
import { Quality, type Problem, type SparkAppRecord } from '../record';
import type { AppSummaries } from '../record/summaries';
import { finishRecord } from '../record/finish';
import { CodecError, DecompressionLimitError, decode } from './codecs/index';
import { ROLLING_PART_MISSING, rollingGapText, type LogUnit } from './discovery';
import { DEFAULT_MAX_LINE_MB, LineSplitter, overlongMessage, splitLines, type SplitResult } from './lines';
import { AppReplay } from './replay';
import { TaskLayoutLibrary } from './taskLayout';

export interface ReadOptions {
  source: string;
  /** Longest line kept, in bytes (default DEFAULT_MAX_LINE_MB MiB, lines.ts); longer ones are skipped as they stream by, with a problem. */
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** Called with compressed bytes read from disk as they are read. */
  onBytes?: (bytes: number) => void;
  /** Largest zstd window a frame may need, in MiB; see DecodeOptions in codecs/index.ts (default 128). */
  maxZstdWindowMb?: number;
  /** Most decompressed bytes per compressed byte; see DecodeOptions in codecs/index.ts (default 1000). */
  maxDecompressionRatio?: number;
  /** False: no stage and executor summaries (AppReplay's withSummaries); only the bench's measure of their cost sets it. */
  summaries?: boolean;
}

/** The limits a collection sets on reading (they travel to the worker threads with each request). */
export type ReadLimits = Pick<ReadOptions, 'maxLineBytes' | 'maxZstdWindowMb' | 'maxDecompressionRatio'>;

export interface UnitResult {
  record: SparkAppRecord | null;
  problems: Problem[];
  /** The attempt's stage attempts and executors (summaries.ts); absent when there is no record. */
  summaries?: AppSummaries;
}

const READ_CHUNK = 512 * 1024;

/**
 * A file of at most READ_CHUNK bytes, read whole with synchronous calls into a buffer of its size
 * (null for a bigger file). For folders of many small logs the four thread-pool round trips of the
 * streamed read (open, read, read, close) and its two fresh 512 KiB buffers cost more than parsing
 * the file (issue #12: 10,000 logs of 66 KB; BENCHMARKS.md). A file that grows meanwhile is read to its end.
 */
function readSmallFile(file: string): Buffer[] | null {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > READ_CHUNK) return null;
    const chunks: Buffer[] = [];
    // One byte more than the size, so the read that fills the file also shows it did not grow.
    let buf = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled === buf.length) {
        chunks.push(buf);
        buf = Buffer.allocUnsafe(READ_CHUNK);
        filled = 0;
      }
    }
    if (filled > 0) chunks.push(buf.subarray(0, filled));
    return chunks;
  } finally {
    closeSync(fd);
  }
}

/**
 * A plain log of at most READ_CHUNK bytes (as discovery found it), split into lines as it is read:
 * with synchronous calls into one buffer that every such file reuses, and no promise per chunk. For
 * 10,000 logs of 67 KB, a fresh buffer per file cost a third of their reads (page faults and GC of
 * its external memory), and the async iterations of the streamed path (read, decode, split) more
 * than their lines' splitting (issue #12). The buffer is only used inside this one synchronous call,
 * which the splitter and the replay are done with when it returns (they copy what they keep), so
 * the attempts a thread reads at once never see each other's bytes. A file that grew meanwhile is
 * read to its end, a buffer at a time.
 */
function splitSmallFile(file: string, splitter: LineSplitter, signal: AbortSignal | undefined, onBytes: ((n: number) => void) | undefined): SplitResult {
  const buf = (smallFileBuffer ??= Buffer.allocUnsafeSlow(READ_CHUNK + 1));
  const fd = openSync(file, 'r');
  try {
    let filled = 0;
    const hand = (): void => {
      signal?.throwIfAborted();
      onBytes?.(filled);
      splitter.push(buf.subarray(0, filled));
      filled = 0;
    };
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled === buf.length) hand();
    }
    if (filled > 0) hand();
  } finally {
    closeSync(fd);
  }
  return splitter.end();
}

/** The buffer splitSmallFile reads into, made on first use (see there). */
let smallFileBuffer: Buffer | undefined;

/**
 * File chunks with the next read already in flight while the caller works on the current one.
 * With `reuse`, two buffers take turns (the caller must not keep a chunk once it asks for the
 * next): fresh buffers cost a page fault per 4 KiB, a third of the engine's time on plain logs.
 * 512 KiB chunks measured fastest (bigger ones fall out of the CPU cache; see BENCHMARKS.md).
 */
async function* readFileChunks(file: string, reuse: boolean, signal: AbortSignal | undefined, onBytes: ((n: number) => void) | undefined): AsyncGenerator<Buffer> {
  const whole = readSmallFile(file);
  if (whole !== null) {
    for (const chunk of whole) {
      signal?.throwIfAborted();
      onBytes?.(chunk.length);
      yield chunk;
    }
    return;
  }
  const fh = await open(file, 'r');
  const spare = reuse ? [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)] : [];
  let turn = 0;
  let position = 0;
  const readAt = (): Promise<FileReadResult<Buffer>> => {
    const buf = reuse ? spare[turn++ % 2]! : Buffer.allocUnsafe(READ_CHUNK);
    return fh.read(buf, 0, READ_CHUNK, position);
  };
  let next: Promise<FileReadResult<Buffer>> | undefined = readAt();
  try {
    for (;;) {
      const { bytesRead, buffer } = await next;
      next = undefined;
      if (bytesRead === 0) return;
      signal?.throwIfAborted();
      position += bytesRead;
      next = readAt();
      onBytes?.(bytesRead);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await next?.catch(() => undefined);
    await fh.close();
  }
}

/**
 * The task-end layouts of the attempts this thread reads, with summaries and without (made on first
 * use): each worker thread loads this module anew, so it has its own, and the attempts it reads one
 * after another (and the main thread's, a few at once before the pool starts) read their task ends
 * by the layouts the attempts before them learned (taskLayout.ts TaskLayoutLibrary; issue #12).
 * Held here because readUnit is what every reader of a thread calls.
 */
const threadLayouts = new Map<boolean, TaskLayoutLibrary>();

function layoutsFor(summaries: boolean): TaskLayoutLibrary {
  let library = threadLayouts.get(summaries);
  if (library === undefined) threadLayouts.set(summaries, (library = new TaskLayoutLibrary(summaries)));
  return library;
}

export async function readUnit(unit: LogUnit, options: ReadOptions): Promise<UnitResult> {
  const replay = new AppReplay({
    appId: unit.appIdHint,
    source: options.source,
    inProgress: unit.inProgress,
    sparkVersion: unit.sparkVersion,
    tags: { log_layout: unit.layout, log_codec: [...new Set(unit.files.map((f) => f.codec))].join(',') },
  }, { summaries: options.summaries, layouts: layoutsFor(options.summaries ?? true) });
  if (unit.compacted) replay.flag(Quality.compacted);
  // The parts that are there are read; what the missing ones held is not in the record.
  if (unit.missingParts) replay.flag(Quality.truncated);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_MB * 2 ** 20;

  for (const [i, file] of unit.files.entries()) {
    replay.beginFile(file.path);
    const last = i === unit.files.length - 1;
    try {
      const sink = (buf: Buffer, start: number, end: number, lineNo: number): void => replay.line(buf, start, end, lineNo);
      const onOverlong = (lineNo: number, bytes: number, head: Buffer): void => replay.problem('error', 'line-too-long', overlongMessage(lineNo, bytes, head, maxLine), lineNo);
      const split =
        file.codec === 'none' && file.size <= READ_CHUNK
          ? splitSmallFile(file.path, new LineSplitter(sink, maxLine, onOverlong), options.signal, options.onBytes)
          : await splitLines(
              // The line splitter copies what it keeps and the replay reads each line as it is given, so the
              // reader's buffers (plain files) and the decoders' output (reuseOutput) may be reused.
              decode(file.codec, readFileChunks(file.path, file.codec === 'none', options.signal, options.onBytes), file.path, {
                maxZstdWindowMb: options.maxZstdWindowMb,
                maxDecompressionRatio: options.maxDecompressionRatio,
                reuseOutput: true,
              }),
              sink,
              maxLine,
              onOverlong,
            );
      const tailLine = split.lines + 1;
      if (split.tail && !replay.lastLine(split.tail, tailLine)) {
        // A broken last line is normal while Spark is still writing; elsewhere it means a cut-off copy.
        const stillWriting = last && unit.inProgress;
        if (!stillWriting) replay.flag(Quality.truncated);
        replay.problem(stillWriting ? 'info' : 'warning', TRUNCATED_LINE, truncatedLineMessage(stillWriting), tailLine, 1);
      }
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (err instanceof DecompressionLimitError) {
        replay.flag(Quality.truncated);
        replay.problem('error', 'decompression-limit', err.problem, undefined);
      } else if (err instanceof CodecError) {
        replay.flag(Quality.truncated);
        // Same rule as a broken last line: expected while Spark writes, suspicious in a finished log, an error mid-way.
        const severity = codecFailureSeverity(err.truncated, last, unit.inProgress);
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
  if (unit.missingParts) problems.unshift({ severity: 'warning', code: ROLLING_PART_MISSING, message: `this rolling event log's ${rollingGapText(unit.missingParts)}: its record is incomplete`, file: unit.path });
  if (record === null) {
    if (!problems.some((p) => p.severity === 'error')) {
      problems.push({ severity: 'error', code: 'not-an-event-log', message: `no Spark listener event found in ${unit.path}`, file: unit.path });
    }
    return { record: null, problems };
  }
  problems.push(...finishRecord(record, unit.path));
  return { record, problems, summaries: replay.summaries() };
}
