/**
 * Splits a stream of byte chunks into lines without decoding them: lines are handed out as
 * (buffer, start, end) views so the replay can look at bytes and decode only what it needs.
 * Nothing keeps a reference to a chunk after the next one is requested, so readers may reuse
 * chunk memory. Memory is bounded by one chunk plus the longest line, and a line longer than `maxLineBytes` is
 * dropped (reported through `onOverlong`) instead of growing without bound.
 */
export type LineSink = (buf: Buffer, start: number, end: number, lineNo: number) => void;

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

export async function splitLines(
  chunks: AsyncIterable<Buffer>,
  sink: LineSink,
  maxLineBytes: number,
  onOverlong: (lineNo: number, bytes: number) => void,
): Promise<SplitResult> {
  let lineNo = 0;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let dropping = false; // inside an over-long line: skip until its newline

  const emit = (buf: Buffer, start: number, end: number): void => {
    lineNo++;
    if (end > start && buf[end - 1] === CR) end--;
    sink(buf, start, end, lineNo);
  };

  for await (const chunk of chunks) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        const rest = chunk.length - pos;
        if (!dropping && carryBytes + rest > maxLineBytes) {
          dropping = true;
          carry = [];
        }
        if (dropping) carryBytes += rest;
        else {
          // Copied: the reader may reuse the chunk's memory once we ask for the next one.
          carry.push(Buffer.from(chunk.subarray(pos)));
          carryBytes += rest;
        }
        break;
      }
      if (dropping) {
        lineNo++;
        onOverlong(lineNo, carryBytes + (nl - pos));
        dropping = false;
        carry = [];
        carryBytes = 0;
      } else if (carryBytes > 0) {
        carry.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(carry, carryBytes + (nl - pos));
        carry = [];
        carryBytes = 0;
        emit(line, 0, line.length);
      } else {
        emit(chunk, pos, nl);
      }
      pos = nl + 1;
    }
  }
  if (dropping) {
    lineNo++;
    onOverlong(lineNo, carryBytes);
    return { lines: lineNo, tail: null };
  }
  return { lines: lineNo, tail: carryBytes > 0 ? Buffer.concat(carry, carryBytes) : null };
}
