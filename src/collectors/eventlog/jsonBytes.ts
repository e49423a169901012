/**
 * Reading JSON from a line's bytes without decoding it: the helpers the event-log byte readers share
 * (replay.ts's searches, taskLayout.ts's layouts). Each is bounded by an `end` in the line, never by
 * the chunk the line sits in. Plain functions of Buffers and a DataView of their bytes (`words`),
 * small and called with one shape each, so that V8 can inline them into the readers' loops.
 */

/** The bytes of JSON's syntax the byte readers look for. */
export const [QUOTE, BACKSLASH, COLON, CLOSE_BRACE, COMMA] = [0x22, 0x5c, 0x3a, 0x7d, 0x2c] as const;
export const NULL_LITERAL = Buffer.from('null');

/** Whether `needle` is at `pos`, entirely before `end`. */
export function bytesAt(buf: Buffer, pos: number, end: number, needle: Buffer): boolean {
  return pos + needle.length <= end && sameBytes(buf, pos, needle);
}

/** Where readInt has intInto write (see there). */
const INTS = new Float64Array(1);

/** Reads a JSON integer starting at `pos`; null when the bytes there are not one. */
export function readInt(buf: Buffer, pos: number, end: number): number | null {
  return intInto(buf, pos, end, INTS, 0) ? INTS[0]! : null;
}

/**
 * Reads a JSON integer starting at `pos` into out[slot]; false (out unchanged) when the bytes there
 * are not one. Written, not returned: a double returned from a call (a time, a byte count past
 * 2^31) is boxed, a heap number per value (issue 15: ~30 bytes of garbage per task end).
 */
export function intInto(buf: Buffer, pos: number, end: number, out: Float64Array, slot: number): boolean {
  return intAt(buf, pos, end, out, slot) !== -1;
}

/** intInto, returning where the integer's digits end instead (-1: not an integer). */
export function intAt(buf: Buffer, pos: number, end: number, out: Float64Array, slot: number): number {
  let neg = false;
  if (buf[pos] === 0x2d) {
    neg = true;
    pos++;
  }
  let value = 0;
  const first = pos;
  while (pos < end) {
    const c = buf[pos]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    pos++;
  }
  // Past 2^53 the sum above is no longer exact: JSON.parse's path judges such a value (one record
  // from either path). The sum only grows, so a value that overflowed stays above the bound.
  if (pos === first || value > Number.MAX_SAFE_INTEGER) return -1;
  const next = buf[pos];
  // A fraction or exponent means this is not the integer Spark writes: let JSON.parse handle it.
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1;
  out[slot] = neg ? -value : value;
  return pos;
}

/**
 * A key compared four bytes at a time (sameWords): its bytes and their little-endian 32-bit words,
 * the last word ending with the key (so overlapping the one before when the length is not a
 * multiple of four). For the keys a task end is checked against in place, each on every task end
 * (issue 15: a third fewer loads than byte by byte, ~30 ns a task end).
 */
export interface WordKey {
  readonly bytes: Buffer;
  readonly words: Uint32Array;
}

export function wordKey(bytes: Buffer): WordKey {
  const n = Math.ceil(bytes.length / 4);
  const words = new Uint32Array(n);
  for (let k = 0; k < n; k++) words[k] = bytes.readUInt32LE(Math.min(4 * k, bytes.length - 4));
  return { bytes, words };
}

/** Whether the key's bytes are at `at`, entirely inside [0, end), compared a word at a time through `words` (a DataView of the line's buffer). */
export function sameWords(words: DataView, at: number, end: number, key: WordKey): boolean {
  const length = key.bytes.length;
  if (at < 0 || at + length > end) return false;
  const w = key.words;
  const last = w.length - 1;
  for (let k = 0; k < last; k++) if (words.getUint32(at + 4 * k, true) !== w[k]) return false;
  return words.getUint32(at + length - 4, true) === w[last];
}

/** Whether `line` holds exactly `key`'s bytes at `at` (a JS loop: cheaper than a native call for short keys). */
export function sameBytes(line: Buffer, at: number, key: Buffer): boolean {
  for (let k = 0; k < key.length; k++) if (line[at + k] !== key[k]) return false;
  return true;
}

/** The first `needle` (which starts with a quote) in buf[from, end) at an unescaped quote, or -1. */
export function indexOfKey(buf: Buffer, words: DataView, from: number, end: number, needle: Buffer): number {
  const last = end - needle.length;
  for (let i = nextQuote(buf, words, from, end); i <= last; i = nextQuote(buf, words, i + 1, end)) {
    if (sameBytes(buf, i, needle)) return i;
  }
  return -1;
}

/**
 * A key lastIndexOfKey searches for: its bytes and, for each byte value, how far back the search
 * may move from a place holding that byte that is not the key's start: the nearest later position
 * of that byte in the key, else the key's length (Horspool's rule, mirrored for a backward search).
 * The keys are 12-20 bytes, so over a Properties object or an Accumulables list the search looks
 * at about one byte in ten (issue 15: half the cost of a stage line on Spark 3.x logs).
 */
export interface BackwardKey {
  readonly bytes: Buffer;
  readonly shifts: Uint8Array;
}

export function backwardKey(bytes: Buffer): BackwardKey {
  const shifts = new Uint8Array(256).fill(bytes.length);
  for (let k = bytes.length - 1; k >= 1; k--) shifts[bytes[k]!] = k;
  return { bytes, shifts };
}

/** The last `key` (which starts with a quote) in buf[from, end), or -1. */
export function lastIndexOfKey(buf: Buffer, from: number, end: number, key: BackwardKey): number {
  const { bytes, shifts } = key;
  for (let i = end - bytes.length; i >= from; ) {
    const c = buf[i]!;
    if (c === QUOTE && sameBytes(buf, i, bytes)) return i;
    i -= shifts[c]!;
  }
  return -1;
}

/** Past the optional minus sign and digits at `p`. */
export function pastInt(buf: Buffer, p: number, end: number): number {
  if (buf[p] === 0x2d) p++;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
  return p;
}

/**
 * The index of the next unescaped quote in buf[i, end), or `end`. Four bytes at a time through
 * `words` (a DataView of buf's bytes): the test for a quote byte in a word is the
 * classic "has zero byte" bit trick on the word XOR 0x22222222. Halves the scan's time on 1.x logs.
 */
export function nextQuote(buf: Buffer, words: DataView, i: number, end: number): number {
  for (;;) {
    while (i + 4 <= end) {
      const x = words.getUint32(i, true) ^ 0x22222222;
      if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
      i += 4;
    }
    while (i < end && buf[i] !== QUOTE) i++;
    if (i >= end) return end;
    // Escaped when preceded by an odd number of backslashes.
    let slashes = 0;
    while (buf[i - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return i;
    i++;
  }
}
