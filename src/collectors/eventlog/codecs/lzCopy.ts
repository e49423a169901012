/**
 * The two steps every LZ77-family block decoder (LZ4, Snappy, LZF) repeats: append a run of
 * literals, append a match. Each checks the bounds first, so that no decoder can forget to: a typed
 * array drops writes past its end without a word, which would turn damage into silently short
 * output. Short runs use a loop because a native copy costs more to call than it saves.
 *
 * The decoders call the `Wide` forms, which copy short runs four or eight bytes at a time through
 * DataViews of src and dst when there is room for the last store to overshoot by up to 3 or 7
 * bytes: the overshoot lands past the write position and is overwritten by the next run, or the
 * unit does not decode to its declared size and is refused. Issue 12, scripts/codecBench.mjs: LZF
 * 730 -> 1,180 MB/s of output, Snappy 600 -> 770 (-> ~820 with eight-byte matches).
 */
import { BlockFormatError } from './codecError';

/** How a raw decoder's messages name what it decodes. */
export interface LzUnit {
  /** 'block' (LZ4, Snappy) or 'chunk' (LZF). */
  readonly name: string;
  /** What declared the decoded size: 'header' (LZ4, LZF) or 'preamble' (Snappy's varint). */
  readonly sizeFrom: string;
}

/** Longest literal run copyLiteralsWide moves four bytes at a time; past it a native copy is cheaper. */
const WIDE_RUN = 48;
/** Longest match copyMatchWide moves eight bytes a step: Snappy cuts long matches into copies of up to 64. */
const WIDE_MATCH = 64;

// Errors are built out of line, which keeps the copies small enough for V8 to inline into the decoders' loops.
function pastEnd(at: number, len: number, unit: LzUnit): BlockFormatError {
  return new BlockFormatError(at, `a run of ${len} literals runs past the end of the ${unit.name}`);
}

function tooLong(at: number, unit: LzUnit): BlockFormatError {
  return new BlockFormatError(at, `the ${unit.name} decodes to more bytes than its ${unit.sizeFrom} says`);
}

/** Appends the `len` literals at src[s..] to dst at `d`; they must end by `end` (the unit's end in src) and fit in dst. */
export function copyLiterals(src: Uint8Array, s: number, end: number, dst: Uint8Array, d: number, len: number, unit: LzUnit): void {
  if (len > end - s) throw pastEnd(s, len, unit);
  if (len > dst.length - d) throw tooLong(s, unit);
  if (len < 24) {
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i]!;
  } else {
    dst.set(src.subarray(s, s + len), d);
  }
}

/**
 * Appends `len` bytes copied from `offset` bytes back (0 < offset <= d, which the caller checks in
 * its format's words); when offset < len the copy repeats the last `offset` bytes. `at` is where in
 * src the match was read, for the error when it does not fit in dst.
 */
export function copyMatch(dst: Uint8Array, d: number, offset: number, len: number, at: number, unit: LzUnit): void {
  if (len > dst.length - d) throw tooLong(at, unit);
  let m = d - offset;
  if (offset >= len) {
    if (len < 32) {
      for (let i = 0; i < len; i++) dst[d + i] = dst[m + i]!;
    } else {
      dst.copyWithin(d, m, m + len);
    }
  } else if (len < 64) {
    const stop = d + len;
    while (d < stop) dst[d++] = dst[m++]!;
  } else {
    // Double the copied span each round so that no single round overlaps itself.
    let span = offset;
    let left = len;
    while (left > 0) {
      const n = Math.min(span, left);
      dst.copyWithin(d, d - span, d - span + n);
      d += n;
      left -= n;
      span += n;
    }
  }
}

/**
 * copyLiterals, with runs of up to WIDE_RUN bytes copied four at a time. `srcView` and `dstView` are
 * DataViews of the whole of src and dst.
 */
export function copyLiteralsWide(src: Uint8Array, srcView: DataView, s: number, end: number, dst: Uint8Array, dstView: DataView, d: number, len: number, unit: LzUnit): void {
  // The room test implies both of copyLiterals' checks, with 3 bytes to spare.
  if (len <= WIDE_RUN && len + 3 <= end - s && len + 3 <= dst.length - d) {
    let k = 0;
    do {
      dstView.setInt32(d + k, srcView.getInt32(s + k, true), true);
      k += 4;
    } while (k < len);
  } else {
    copyLiterals(src, s, end, dst, d, len, unit);
  }
}

/**
 * copyMatch, with matches of up to WIDE_MATCH bytes from at least 4 bytes back copied eight at a
 * time as two 4-byte loads and stores (may write 7 bytes past the match): each load then reads only
 * bytes already final. `dstView` is a DataView of the whole of dst.
 */
export function copyMatchWide(dst: Uint8Array, dstView: DataView, d: number, offset: number, len: number, at: number, unit: LzUnit): void {
  if (offset >= 4 && len <= WIDE_MATCH && len + 7 <= dst.length - d) {
    const m = d - offset;
    let k = 0;
    do {
      dstView.setInt32(d + k, dstView.getInt32(m + k, true), true);
      dstView.setInt32(d + k + 4, dstView.getInt32(m + k + 4, true), true);
      k += 8;
    } while (k < len);
  } else {
    copyMatch(dst, d, offset, len, at, unit);
  }
}
