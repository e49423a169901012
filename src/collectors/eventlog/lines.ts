import { formatBytes } from '../../common/format';

/**
 * Splits a stream of byte chunks into lines without decoding them: lines are handed out as
 * (buffer, start, end) views so the replay can look at bytes and decode only what it needs.
 * Nothing keeps a reference to a chunk after the next one is requested, so readers may reuse
 * chunk memory. Memory is bounded by one chunk plus twice the longest line kept (its pieces, then the
 * line made of them): a line longer than `maxLineBytes` is skipped as it streams by (reported through
 * `onOverlong` with its first bytes) instead of growing without bound.
 */
export type LineSink = (buf: Buffer, start: number, end: number, lineNo: number) => void;

/**
 * Default longest line, in MiB. Spark's longest real lines are SQL plans (SparkListenerSQLExecutionStart,
 * which the record does not read) of a few MB. A line held costs five to eight times its size at
 * once (its pieces, the joined line, its text, twice as big when a character is outside Latin-1, and
 * the parsed value): 32 MiB keeps a run near 250 MB (BENCHMARKS.md; issue 13: a 250 MB line took 1.19 GB).
 */
export const DEFAULT_MAX_LINE_MB = 32;
/** V8 strings hold at most 2^29 - 24 characters: a longer line could never be parsed. */
export const MAX_LINE_MB_LIMIT = 512;
/** The option that raises the line limit, named in the problem that skips a line. */
export const LINE_OPTION = 'max_line_mb (config), --max-line-mb (CLI) or sparkOptimizer.maxLineMb (editor)';

/** `{"Event":"Name"` at the start of a line: the event an over-long line held, for its report. */
const EVENT_HEAD = /^\s*\{\s*"Event"\s*:\s*"([^"\\]{1,200})"/;

/** The event named at the start of an over-long line's first bytes, or null. */
export function eventOfHead(head: Buffer): string | null {
  return EVENT_HEAD.exec(head.toString('latin1'))?.[1] ?? null;
}

/** The message for a line over the limit (collection and validate say the same). */
export function overlongMessage(lineNo: number, bytes: number, head: Buffer, maxLineBytes: number): string {
  const event = eventOfHead(head);
  return `line ${lineNo} is ${formatBytes(bytes)}, over the ${formatBytes(maxLineBytes)} line limit${event === null ? '' : ` (a ${event} event)`}: skipped. Raise ${LINE_OPTION} to read it; memory use grows with the limit`;
}

const NL = 0x0a;
const CR = 0x0d;

export interface SplitResult {
  /** Lines handed to the sink. */
  lines: number;
  /**
   * Bytes after the last newline, not handed to the sink: Spark ends every event with a newline,
   * so these are a line cut off mid-write (normal for in-progress logs) or a hand-made file.
   */
  tail: Buffer | null;
}

/** Bytes kept from the start of an over-long line, so that its report can name its event. */
export const OVERLONG_HEAD = 256;

/** A line over the limit: its number, its whole length in bytes, and its first OVERLONG_HEAD bytes. */
export type OverlongSink = (lineNo: number, bytes: number, head: Buffer) => void;

/**
 * The line splitter itself, fed one chunk at a time (push) and then told the input ended (end): for
 * a caller that has its chunks at hand, as readLog.ts has a small file's bytes, without the
 * promises of an async iteration per chunk.
 */
export class LineSplitter {
  private lineNo = 0;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside an over-long line: skip until its newline. */
  private dropping = false;
  private head: Buffer = Buffer.alloc(0);

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number,
    private readonly onOverlong: OverlongSink,
  ) {}

  /** Hands out the lines `chunk` completes; keeps (copied) what is left of its last line. */
  push(chunk: Buffer): void {
    const maxLineBytes = this.maxLineBytes;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        const rest = chunk.length - pos;
        if (!this.dropping && this.carryBytes + rest > maxLineBytes) this.startDropping(chunk.subarray(pos));
        // Copied: the reader may reuse the chunk's memory once we ask for the next one.
        if (!this.dropping) this.carry.push(Buffer.from(chunk.subarray(pos)));
        this.carryBytes += rest;
        break;
      }
      const length = this.carryBytes + (nl - pos);
      if (!this.dropping && length > maxLineBytes) this.startDropping(chunk.subarray(pos, nl));
      if (this.dropping) {
        this.overlong(length);
      } else if (this.carryBytes > 0) {
        this.carry.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(this.carry, length);
        this.carry = [];
        this.carryBytes = 0;
        this.emit(line, 0, line.length);
      } else {
        this.emit(chunk, pos, nl);
      }
      pos = nl + 1;
    }
  }

  /** The input ended: the lines handed out, and the bytes after the last newline. */
  end(): SplitResult {
    if (this.dropping) {
      this.overlong(this.carryBytes);
      return { lines: this.lineNo, tail: null };
    }
    return { lines: this.lineNo, tail: this.carryBytes > 0 ? Buffer.concat(this.carry, this.carryBytes) : null };
  }

  private emit(buf: Buffer, start: number, end: number): void {
    const lineNo = ++this.lineNo;
    if (end > start && buf[end - 1] === CR) end--;
    // A byte-order mark (a file saved by an editor) is not part of the first event.
    if (lineNo === 1 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    this.sink(buf, start, end, lineNo);
  }

  /** Starts skipping the current line: what was carried of it, then `next`, its piece in this chunk. */
  private startDropping(next: Buffer): void {
    this.head = Buffer.concat([...this.carry, next], Math.min(this.carryBytes + next.length, OVERLONG_HEAD));
    this.dropping = true;
    this.carry = [];
  }

  private overlong(bytes: number): void {
    this.lineNo++;
    this.onOverlong(this.lineNo, bytes, this.head);
    this.dropping = false;
    this.carryBytes = 0;
  }
}

export async function splitLines(chunks: AsyncIterable<Buffer>, sink: LineSink, maxLineBytes: number, onOverlong: OverlongSink): Promise<SplitResult> {
  const splitter = new LineSplitter(sink, maxLineBytes, onOverlong);
  for await (const chunk of chunks) splitter.push(chunk);
  return splitter.end();
}
