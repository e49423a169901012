/**
 * The entropy tables of Zstandard compressed blocks (RFC 8878 §4.1 FSE, §4.2 Huffman): reading their
 * descriptions and building decoding tables. Used by zstdFrameDecoder.ts. Positions in errors are
 * indexes into the block being decoded.
 */
import { BlockFormatError } from './codecError';

/**
 * One FSE decoding table for a sequence field, with each state's code already turned into the
 * field's baseline and extra-bit count (RFC 8878 §3.1.1.3.2.1), so the sequence loop does no
 * second lookup.
 */
export interface SeqTable {
  accuracyLog: number;
  /** Per state: bits to read for the next state, and the number they are added to. */
  readonly nbBits: Uint8Array;
  readonly nextBase: Uint16Array;
  /**
   * Per state: the field's baseline and how many extra bits follow it in the stream. Uint32 holds
   * every baseline (offset code 31 is 2^31) and lets V8 keep the sequence loop's sums in integer
   * registers; a Float64Array made them doubles (zstd 637-664 -> 695-718 MB/s, issue 12).
   */
  readonly baseline: Uint32Array;
  readonly extraBits: Uint8Array;
}

export type SeqKind = 'literalLength' | 'offset' | 'matchLength';

interface KindSpec {
  maxSymbol: number;
  maxLog: number;
  baseline: readonly number[];
  extra: readonly number[];
  predefinedLog: number;
  predefined: readonly number[];
}

const LL_BASELINE = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
  32768, 65536,
];
const LL_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BASELINE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47,
  51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_EXTRA = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
  12, 13, 14, 15, 16,
];
/** Offset code N stands for 2^N plus N extra bits; codes up to 31 cover windows up to 2 GiB (windowLog 31). */
const OF_BASELINE = Array.from({ length: 32 }, (_, code) => 2 ** code);
const OF_EXTRA = Array.from({ length: 32 }, (_, code) => code);

const KINDS: Readonly<Record<SeqKind, KindSpec>> = {
  literalLength: {
    maxSymbol: 35,
    maxLog: 9,
    baseline: LL_BASELINE,
    extra: LL_EXTRA,
    predefinedLog: 6,
    predefined: [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1],
  },
  matchLength: {
    maxSymbol: 52,
    maxLog: 9,
    baseline: ML_BASELINE,
    extra: ML_EXTRA,
    predefinedLog: 6,
    predefined: [
      1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
      -1, -1, -1, -1, -1,
    ],
  },
  offset: {
    maxSymbol: 31,
    maxLog: 8,
    baseline: OF_BASELINE,
    extra: OF_EXTRA,
    predefinedLog: 5,
    predefined: [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1],
  },
};

export function newSeqTable(maxLog: number): SeqTable {
  const size = 1 << maxLog;
  return {
    accuracyLog: 0,
    nbBits: new Uint8Array(size),
    nextBase: new Uint16Array(size),
    baseline: new Uint32Array(size),
    extraBits: new Uint8Array(size),
  };
}

export function maxLogOf(kind: SeqKind): number {
  return KINDS[kind].maxLog;
}

function highBit(v: number): number {
  return 31 - Math.clz32(v);
}

/**
 * Spreads normalized counts over a table of 2^log states (RFC 8878 §4.1.1) and returns each state's
 * symbol, bits and next-state base. Reused scratch keeps table building allocation-free.
 */
const spreadSymbols = new Uint8Array(512);
const symbolNext = new Uint16Array(256);

function buildFse(counts: ArrayLike<number>, symbols: number, log: number, nbBits: Uint8Array, nextBase: Uint16Array, at: number): Uint8Array {
  const size = 1 << log;
  let high = size - 1;
  for (let s = 0; s < symbols; s++) {
    const c = counts[s]!;
    if (c === -1) {
      spreadSymbols[high--] = s;
      symbolNext[s] = 1;
    } else {
      symbolNext[s] = c;
    }
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  const mask = size - 1;
  let pos = 0;
  for (let s = 0; s < symbols; s++) {
    const c = counts[s]!;
    for (let i = 0; i < c; i++) {
      spreadSymbols[pos] = s;
      do pos = (pos + step) & mask;
      while (pos > high);
    }
  }
  if (pos !== 0) throw new BlockFormatError(at, 'an FSE table does not add up');
  for (let u = 0; u < size; u++) {
    const s = spreadSymbols[u]!;
    const next = symbolNext[s]!;
    symbolNext[s] = next + 1;
    const bits = log - highBit(next);
    nbBits[u] = bits;
    nextBase[u] = (next << bits) - size;
  }
  return spreadSymbols;
}

/** Fills `table` from normalized counts: the FSE states with their field baselines attached. */
function fillSeqTable(kind: SeqKind, counts: ArrayLike<number>, symbols: number, log: number, table: SeqTable, at: number): void {
  const spec = KINDS[kind];
  const spread = buildFse(counts, symbols, log, table.nbBits, table.nextBase, at);
  for (let u = 0; u < 1 << log; u++) {
    const code = spread[u]!;
    table.baseline[u] = spec.baseline[code]!;
    table.extraBits[u] = spec.extra[code]!;
  }
  table.accuracyLog = log;
}

const PREDEFINED: Readonly<Record<SeqKind, SeqTable>> = (() => {
  const make = (kind: SeqKind): SeqTable => {
    const spec = KINDS[kind];
    const table = newSeqTable(spec.predefinedLog);
    fillSeqTable(kind, spec.predefined, spec.predefined.length, spec.predefinedLog, table, 0);
    return table;
  };
  return { literalLength: make('literalLength'), matchLength: make('matchLength'), offset: make('offset') };
})();

export function predefinedTable(kind: SeqKind): SeqTable {
  return PREDEFINED[kind];
}

/** RLE mode: every sequence has the same code, so one state reading no bits. */
export function fillRleTable(kind: SeqKind, code: number, table: SeqTable, at: number): void {
  const spec = KINDS[kind];
  if (code > spec.maxSymbol) throw new BlockFormatError(at, `an RLE ${kind} code ${code} is out of range`);
  table.accuracyLog = 0;
  table.nbBits[0] = 0;
  table.nextBase[0] = 0;
  table.baseline[0] = spec.baseline[code]!;
  table.extraBits[0] = spec.extra[code]!;
}

const countsScratch = new Int16Array(256);

/**
 * Reads an FSE table description (RFC 8878 §4.1.1) at src[start..end) into normalized counts;
 * returns the accuracy log, the number of symbols and the bytes used.
 */
export function readFseCounts(src: Uint8Array, start: number, end: number, maxSymbol: number, maxLog: number, counts: Int16Array): { log: number; symbols: number; bytes: number } {
  if (end - start < 1) throw new BlockFormatError(start, 'an FSE table description is missing');
  // Bits are read forward, least significant first; bytes past `end` read as zero and are caught by the length check.
  let bitPos = start * 8;
  const peek = (n: number): number => {
    const i = bitPos >>> 3;
    const v = ((src[i] ?? 0) | ((src[i + 1] ?? 0) << 8) | ((src[i + 2] ?? 0) << 16) | ((src[i + 3] ?? 0) << 24)) >>> (bitPos & 7);
    return v & ((1 << n) - 1);
  };
  const log = peek(4) + 5;
  bitPos += 4;
  if (log > maxLog) throw new BlockFormatError(start, `an FSE table has accuracy log ${log}, over the maximum ${maxLog}`);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  let symbol = 0;
  while (remaining > 1) {
    if (symbol > maxSymbol) throw new BlockFormatError(start, 'an FSE table has too many symbols');
    const max = 2 * threshold - 1 - remaining;
    let value: number;
    const low = peek(nbBits - 1);
    if (low < max) {
      value = low;
      bitPos += nbBits - 1;
    } else {
      value = peek(nbBits);
      if (value >= threshold) value -= max;
      bitPos += nbBits;
    }
    const count = value - 1;
    remaining -= count < 0 ? -count : count;
    counts[symbol++] = count;
    if (count === 0) {
      // A zero count is followed by 2-bit repeat flags: that many more zeros, 3 meaning "and more".
      for (;;) {
        const repeat = peek(2);
        bitPos += 2;
        for (let r = 0; r < repeat; r++) {
          if (symbol > maxSymbol) throw new BlockFormatError(start, 'an FSE table has too many symbols');
          counts[symbol++] = 0;
        }
        if (repeat !== 3) break;
      }
    }
    while (remaining < threshold) {
      nbBits--;
      threshold >>>= 1;
    }
  }
  const used = ((bitPos + 7) >>> 3) - start;
  if (remaining !== 1 || start + used > end) throw new BlockFormatError(start, 'an FSE table description is damaged');
  return { log, symbols: symbol, bytes: used };
}

/** Reads an FSE-compressed sequence table description into `table`; returns the bytes it took. */
export function readSeqTable(kind: SeqKind, src: Uint8Array, start: number, end: number, table: SeqTable): number {
  const spec = KINDS[kind];
  const { log, symbols, bytes } = readFseCounts(src, start, end, spec.maxSymbol, spec.maxLog, countsScratch);
  fillSeqTable(kind, countsScratch, symbols, log, table, start);
  return bytes;
}

/** A Huffman decoding table: entry = symbol << 4 | code length, indexed by the next `maxBits` bits. */
export interface HuffmanTable {
  maxBits: number;
  readonly entries: Uint16Array;
}

export const HUFFMAN_MAX_BITS = 11;

export function newHuffmanTable(): HuffmanTable {
  return { maxBits: 0, entries: new Uint16Array(1 << HUFFMAN_MAX_BITS) };
}

const weights = new Uint8Array(256);
const weightNbBits = new Uint8Array(64);
const weightNextBase = new Uint16Array(64);
const rankCount = new Uint16Array(HUFFMAN_MAX_BITS + 2);
const rankStart = new Uint32Array(HUFFMAN_MAX_BITS + 2);

/**
 * Reads a Huffman tree description (RFC 8878 §4.2.1) at src[start..end) into `table`; returns the
 * bytes it took.
 */
export function readHuffmanTable(src: Uint8Array, start: number, end: number, table: HuffmanTable): number {
  if (end - start < 1) throw new BlockFormatError(start, 'a Huffman tree description is missing');
  const header = src[start]!;
  let count: number;
  let used: number;
  if (header >= 128) {
    // Weights stored directly, 4 bits each, high nibble first.
    count = header - 127;
    used = 1 + ((count + 1) >>> 1);
    if (start + used > end) throw new BlockFormatError(start, 'a Huffman tree description runs past its block');
    for (let i = 0; i < count; i++) {
      const b = src[start + 1 + (i >>> 1)]!;
      weights[i] = i & 1 ? b & 15 : b >>> 4;
    }
  } else {
    // FSE-compressed weights: a table description, then a backward bit stream read by two interleaved states.
    used = 1 + header;
    const dataEnd = start + used;
    if (dataEnd > end) throw new BlockFormatError(start, 'a Huffman tree description runs past its block');
    const { log, symbols, bytes } = readFseCounts(src, start + 1, dataEnd, 255, 6, countsScratch);
    const spread = buildFse(countsScratch, symbols, log, weightNbBits, weightNextBase, start);
    const streamStart = start + 1 + bytes;
    if (streamStart >= dataEnd) throw new BlockFormatError(start, 'a Huffman tree description has no weights');
    const last = src[dataEnd - 1]!;
    if (last === 0) throw new BlockFormatError(dataEnd - 1, 'a bit stream lacks its end marker');
    const low = streamStart * 8;
    let bp = (dataEnd - 1) * 8 + highBit(last);
    const read = (n: number): number => {
      const from = bp - n;
      bp = from;
      if (n === 0) return 0;
      if (from < low) {
        // Past the start of the stream: the missing low bits read as zero.
        const have = from + n - low;
        return have <= 0 ? 0 : readBitsAt(src, low, have) << (low - from);
      }
      return readBitsAt(src, from, n);
    };
    let s1 = read(log);
    let s2 = read(log);
    count = 0;
    for (;;) {
      if (count > 253) throw new BlockFormatError(start, 'a Huffman tree description has too many weights');
      weights[count++] = spread[s1]!;
      s1 = weightNextBase[s1]! + read(weightNbBits[s1]!);
      if (bp < low) {
        weights[count++] = spread[s2]!;
        break;
      }
      weights[count++] = spread[s2]!;
      s2 = weightNextBase[s2]! + read(weightNbBits[s2]!);
      if (bp < low) {
        weights[count++] = spread[s1]!;
        break;
      }
    }
  }
  buildHuffman(count, table, start);
  return used;
}

/** Bits [from, from + n) of src, n <= 25, least significant bit first. */
export function readBitsAt(src: Uint8Array, from: number, n: number): number {
  const i = from >> 3;
  return ((src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> (from & 7)) & ((1 << n) - 1);
}

function buildHuffman(count: number, table: HuffmanTable, at: number): void {
  // The last symbol's weight is implied: it makes the code lengths fill a power of two.
  rankCount.fill(0);
  let total = 0;
  for (let s = 0; s < count; s++) {
    const w = weights[s]!;
    if (w > HUFFMAN_MAX_BITS) throw new BlockFormatError(at, `a Huffman weight of ${w} is too large`);
    rankCount[w]!++;
    if (w > 0) total += 1 << (w - 1);
  }
  if (total === 0) throw new BlockFormatError(at, 'a Huffman tree has no symbols');
  const maxBits = highBit(total) + 1;
  if (maxBits > HUFFMAN_MAX_BITS) throw new BlockFormatError(at, `a Huffman tree is ${maxBits} bits deep, over the maximum ${HUFFMAN_MAX_BITS}`);
  const rest = (1 << maxBits) - total;
  const lastWeight = highBit(rest) + 1;
  if (1 << (lastWeight - 1) !== rest) throw new BlockFormatError(at, 'a Huffman tree does not add up');
  weights[count] = lastWeight;
  rankCount[lastWeight]!++;
  const symbols = count + 1;
  let next = 0;
  for (let w = 1; w <= maxBits; w++) {
    rankStart[w] = next;
    next += rankCount[w]! << (w - 1);
  }
  const entries = table.entries;
  for (let s = 0; s < symbols; s++) {
    const w = weights[s]!;
    if (w === 0) continue;
    const span = 1 << (w - 1);
    const from = rankStart[w]!;
    entries.fill((s << 4) | (maxBits + 1 - w), from, from + span);
    rankStart[w] = from + span;
  }
  table.maxBits = maxBits;
}
