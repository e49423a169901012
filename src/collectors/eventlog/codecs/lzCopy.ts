/**
 * The two steps every LZ77-family block decoder (LZ4, Snappy, LZF) repeats: append a run of
 * literals, append a match. Each checks the bounds first, so that no decoder can forget to: a typed
 * array drops writes past its end without a word, which would turn damage into silently short
 * output. Short runs use a loop because a native copy costs more to call than it saves.
 */
import { BlockFormatError } from './codecError';

/** How a raw decoder's messages name what it decodes. */
export interface LzUnit {
  /** 'block' (LZ4, Snappy) or 'chunk' (LZF). */
  readonly name: string;
  /** What declared the decoded size: 'header' (LZ4, LZF) or 'preamble' (Snappy's varint). */
  readonly sizeFrom: string;
}

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
