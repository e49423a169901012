/**
 * Byte copies shared by the LZ77-family block decoders (LZ4, Snappy, LZF). Callers have checked
 * every bound; short runs use a loop because a native copy costs more to call than it saves.
 */

export function copyLiterals(src: Uint8Array, s: number, dst: Uint8Array, d: number, len: number): void {
  if (len < 24) {
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i]!;
  } else {
    dst.set(src.subarray(s, s + len), d);
  }
}

/** Appends `len` bytes copied from `offset` bytes back; when offset < len the copy repeats the last `offset` bytes. */
export function copyMatch(dst: Uint8Array, d: number, offset: number, len: number): void {
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
