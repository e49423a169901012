/**
 * Decodes the blocks of one Zstandard frame (RFC 8878 §3.1.1.2-3.1.1.5) into a ring that holds the
 * frame's window plus two blocks, so memory is bounded by the window whatever the size of the file.
 * zstd.ts walks the frame and block headers and hands each block here.
 *
 * Written for this project instead of fzstd 0.1.1, which reads an offset's extra bits with one 32-bit
 * load (wrong bytes, no error, for offsets over 64 MiB, i.e. `zstd --long=27` and Databricks Photon
 * logs) and shifts its whole window once per block (slow with big windows).
 *
 * Writing wraps to the start of the ring when the next block might not fit; a match that reaches
 * back past the wrap reads the end of the previous lap, which is still intact because the ring is at
 * least `window + 2 * maxBlock` long.
 */
import { BlockFormatError } from './codecError';
import {
  type HuffmanTable,
  type SeqKind,
  type SeqTable,
  fillRleTable,
  maxLogOf,
  newHuffmanTable,
  newSeqTable,
  predefinedTable,
  readBitsAt,
  readHuffmanTable,
  readSeqTable,
} from './zstdEntropy';

export const ZSTD_MAX_BLOCK = 128 * 1024;

/**
 * Literal runs and matches up to this long are copied four bytes at a time, which may write up to 3
 * bytes past the run. Those land inside the block's own stretch of the ring, [start, start +
 * maxBlock): that stretch holds nothing a later match can reach (see the ring's length), and the next
 * run overwrites them. Matches from fewer than 4 bytes back and near the block limit go byte by byte.
 */
const WIDE_RUN = 32;

function highBit(v: number): number {
  return 31 - Math.clz32(v);
}

export class ZstdFrameDecoder {
  private ring = new Uint8Array(0);
  /** Next write position in the ring. */
  private pos = 0;
  /** Where the previous lap of the ring ended (writing wrapped to 0 there). */
  private lapEnd = 0;
  /** Bytes this frame has produced so far: no offset may reach further back. */
  private produced = 0;
  private window = 0;
  private maxBlock = 0;
  private rep0 = 1;
  private rep1 = 4;
  private rep2 = 8;
  private readonly huffman: HuffmanTable = newHuffmanTable();
  private hasHuffman = false;
  private readonly own: Record<SeqKind, SeqTable> = {
    literalLength: newSeqTable(maxLogOf('literalLength')),
    offset: newSeqTable(maxLogOf('offset')),
    matchLength: newSeqTable(maxLogOf('matchLength')),
  };
  private current: Record<SeqKind, SeqTable | null> = { literalLength: null, offset: null, matchLength: null };
  private ringView = new DataView(this.ring.buffer);
  private view: DataView | null = null;
  /** Decoded literals of the current block (Huffman or RLE), with slack for the 4-byte bit loads. */
  private readonly literals = new Uint8Array(ZSTD_MAX_BLOCK + 8);
  private readonly literalsView = new DataView(this.literals.buffer);

  /** The ring; a block's output is `output.subarray(start, end)` as returned by block(). */
  get output(): Uint8Array {
    return this.ring;
  }

  /** Resets for a new frame with this window (bytes). Keeps the ring when it is already big enough. */
  startFrame(window: number): void {
    this.window = window;
    this.maxBlock = Math.min(window, ZSTD_MAX_BLOCK);
    const need = window + 2 * this.maxBlock;
    if (this.ring.length < need) {
      this.ring = new Uint8Array(need);
      this.ringView = new DataView(this.ring.buffer);
    }
    this.pos = 0;
    this.lapEnd = 0;
    this.produced = 0;
    this.rep0 = 1;
    this.rep1 = 4;
    this.rep2 = 8;
    this.hasHuffman = false;
    this.current = { literalLength: null, offset: null, matchLength: null };
  }

  /** Bytes the frame has produced so far. */
  get frameSize(): number {
    return this.produced;
  }

  /**
   * Decodes one block body of `size` bytes at src[start..] (type 0 raw, 1 RLE, 2 compressed; for RLE
   * only src[start] is read). src must have 16 readable bytes before and 8 past the block. Returns where its
   * output starts in `output`; it ends at the returned `end`.
   */
  block(type: number, src: Uint8Array, start: number, size: number): { start: number; end: number } {
    if (this.pos + this.maxBlock > this.ring.length) {
      this.lapEnd = this.pos;
      this.pos = 0;
    }
    const from = this.pos;
    if (type === 0) {
      this.ring.set(src.subarray(start, start + size), from);
      this.pos += size;
    } else if (type === 1) {
      this.ring.fill(src[start]!, from, from + size);
      this.pos += size;
    } else {
      this.compressed(src, start, start + size);
    }
    this.produced += this.pos - from;
    return { start: from, end: this.pos };
  }

  private compressed(src: Uint8Array, start: number, end: number): void {
    // Literals section (RFC 8878 §3.1.1.3.1).
    let p = start;
    if (end - p < 1) throw new BlockFormatError(p, 'the block is empty');
    const b0 = src[p]!;
    const litType = b0 & 3;
    const sizeFormat = (b0 >>> 2) & 3;
    let regenerated: number;
    let compressedSize = 0;
    let streams = 1;
    let headerLen: number;
    if (litType < 2) {
      if ((sizeFormat & 1) === 0) {
        headerLen = 1;
        regenerated = b0 >>> 3;
      } else if (sizeFormat === 1) {
        headerLen = 2;
        regenerated = (b0 >>> 4) | (src[p + 1]! << 4);
      } else {
        headerLen = 3;
        regenerated = (b0 >>> 4) | (src[p + 1]! << 4) | (src[p + 2]! << 12);
      }
    } else {
      const h = (b0 | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
      if (sizeFormat < 2) {
        headerLen = 3;
        regenerated = (h >>> 4) & 0x3ff;
        compressedSize = (h >>> 14) & 0x3ff;
        streams = sizeFormat === 0 ? 1 : 4;
      } else if (sizeFormat === 2) {
        headerLen = 4;
        regenerated = (h >>> 4) & 0x3fff;
        compressedSize = (h >>> 18) & 0x3fff;
        streams = 4;
      } else {
        headerLen = 5;
        regenerated = (h >>> 4) & 0x3ffff;
        compressedSize = (h >>> 22) | (src[p + 4]! << 10);
        streams = 4;
      }
    }
    if (p + headerLen > end) throw new BlockFormatError(p, 'the literals header runs past the block');
    if (regenerated > this.maxBlock) throw new BlockFormatError(p, `the block has ${regenerated} literals, more than a block may hold`);
    p += headerLen;
    let lit: Uint8Array;
    let litPos: number;
    if (litType === 0) {
      if (p + regenerated > end) throw new BlockFormatError(p, 'the raw literals run past the block');
      lit = src;
      litPos = p;
      p += regenerated;
    } else if (litType === 1) {
      if (p + 1 > end) throw new BlockFormatError(p, 'the RLE literals run past the block');
      lit = this.literals;
      litPos = 0;
      lit.fill(src[p]!, 0, regenerated);
      p += 1;
    } else {
      const litEnd = p + compressedSize;
      if (litEnd > end) throw new BlockFormatError(p, 'the compressed literals run past the block');
      let q = p;
      if (litType === 2) {
        q += readHuffmanTable(src, p, litEnd, this.huffman);
        this.hasHuffman = true;
      } else if (!this.hasHuffman) {
        throw new BlockFormatError(p, 'the literals reuse a Huffman tree, but no earlier block of the frame has one');
      }
      lit = this.literals;
      litPos = 0;
      if (streams === 1) {
        decodeHuffmanStream(src, q, litEnd, this.huffman, lit, 0, regenerated);
      } else {
        if (litEnd - q < 10) throw new BlockFormatError(q, 'the literal streams are too short for their jump table');
        const s1 = src[q]! | (src[q + 1]! << 8);
        const s2 = src[q + 2]! | (src[q + 3]! << 8);
        const s3 = src[q + 4]! | (src[q + 5]! << 8);
        const a = q + 6;
        const b = a + s1;
        const c = b + s2;
        const d = c + s3;
        if (d > litEnd) throw new BlockFormatError(q, 'the literal jump table points past the literals');
        const part = (regenerated + 3) >>> 2;
        if (3 * part > regenerated) throw new BlockFormatError(q, 'too few literals for four streams');
        decodeHuffmanStream(src, a, b, this.huffman, lit, 0, part);
        decodeHuffmanStream(src, b, c, this.huffman, lit, part, part);
        decodeHuffmanStream(src, c, d, this.huffman, lit, 2 * part, part);
        decodeHuffmanStream(src, d, litEnd, this.huffman, lit, 3 * part, regenerated - 3 * part);
      }
      p = litEnd;
    }

    // Sequences section (RFC 8878 §3.1.1.3.2).
    if (p >= end) throw new BlockFormatError(p, 'the sequences section is missing');
    let nbSeq = src[p++]!;
    if (nbSeq >= 128) {
      if (nbSeq < 255) {
        if (p + 1 > end) throw new BlockFormatError(p, 'the sequences header runs past the block');
        nbSeq = ((nbSeq - 128) << 8) + src[p++]!;
      } else {
        if (p + 2 > end) throw new BlockFormatError(p, 'the sequences header runs past the block');
        nbSeq = src[p]! + (src[p + 1]! << 8) + 0x7f00;
        p += 2;
      }
    }
    if (nbSeq === 0) {
      if (p !== end) throw new BlockFormatError(p, 'bytes follow a block that has no sequences');
      this.pos = copyLiterals(this.ring, this.pos, lit, litPos, regenerated);
      return;
    }
    if (p >= end) throw new BlockFormatError(p, 'the sequences header runs past the block');
    const modes = src[p++]!;
    if (modes & 3) throw new BlockFormatError(p - 1, 'the reserved bits of the compression modes are set');
    p = this.selectTable('literalLength', modes >>> 6, src, p, end);
    p = this.selectTable('offset', (modes >>> 4) & 3, src, p, end);
    p = this.selectTable('matchLength', (modes >>> 2) & 3, src, p, end);
    if (p >= end) throw new BlockFormatError(p, 'the sequences bit stream is missing');
    const lastByte = src[end - 1]!;
    if (lastByte === 0) throw new BlockFormatError(end - 1, 'the sequences bit stream lacks its end marker');
    if (this.view === null || this.view.buffer !== src.buffer || this.view.byteOffset !== src.byteOffset) {
      this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    }
    this.sequences(this.view, p, end, nbSeq, lit, litPos, litPos + regenerated);
  }

  /**
   * Decodes and executes `nbSeq` sequences from the backward bit stream src[p..end) (RFC 8878
   * §3.1.1.3.2.2, §3.1.1.4), then appends the literals left over. Kept apart from the literals so
   * that V8 optimizes this loop on its own. `view` must have 16 readable bytes before `p`.
   */
  private sequences(view: DataView, p: number, end: number, nbSeq: number, lit: Uint8Array, litPos: number, litLimit: number): void {
    const ring = this.ring;
    const ringView = this.ringView;
    const litView = lit === this.literals ? this.literalsView : view;
    let op = this.pos;
    const limit = op + this.maxBlock;
    const llT = this.current.literalLength!;
    const ofT = this.current.offset!;
    const mlT = this.current.matchLength!;
    const low = p * 8;
    let bp = (end - 1) * 8 + highBit(view.getUint8(end - 1));
    const { nbBits: llNb, nextBase: llNext, baseline: llBase, extraBits: llExtra } = llT;
    const { nbBits: ofNb, nextBase: ofNext, baseline: ofBase, extraBits: ofExtra } = ofT;
    const { nbBits: mlNb, nextBase: mlNext, baseline: mlBase, extraBits: mlExtra } = mlT;

    bp -= llT.accuracyLog;
    let llState = bitsAt(view, bp, llT.accuracyLog);
    bp -= ofT.accuracyLog;
    let ofState = bitsAt(view, bp, ofT.accuracyLog);
    bp -= mlT.accuracyLog;
    let mlState = bitsAt(view, bp, mlT.accuracyLog);

    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    const before = this.produced - this.pos;
    const window = this.window;
    const lapEnd = this.lapEnd;

    for (let i = 0; i < nbSeq; i++) {
      // Extra bits come in the order offset, match length, literal length.
      const ofBits = ofExtra[ofState]!;
      bp -= ofBits;
      const offsetValue = ofBits > 25 ? ofBase[ofState]! + bitsAt(view, bp + 16, ofBits - 16) * 65536 + bitsAt(view, bp, 16) : ofBase[ofState]! + bitsAt(view, bp, ofBits);
      const mlBits = mlExtra[mlState]!;
      bp -= mlBits;
      const ml = mlBase[mlState]! + bitsAt(view, bp, mlBits);
      const llBits = llExtra[llState]!;
      bp -= llBits;
      const ll = llBase[llState]! + bitsAt(view, bp, llBits);
      if (i + 1 < nbSeq) {
        // States update in the order literal length, match length, offset.
        let n = llNb[llState]!;
        bp -= n;
        llState = llNext[llState]! + bitsAt(view, bp, n);
        n = mlNb[mlState]!;
        bp -= n;
        mlState = mlNext[mlState]! + bitsAt(view, bp, n);
        n = ofNb[ofState]!;
        bp -= n;
        ofState = ofNext[ofState]! + bitsAt(view, bp, n);
      }
      // One sequence reads at most 89 bits, and 16 bytes lie before the stream: no read left the view.
      if (bp < low) throw new BlockFormatError(p, `the sequences bit stream ends before sequence ${i} does`);

      // Repeat offsets (RFC 8878 §3.1.2.5): values 1-3 name recent offsets, shifted by one when ll is 0.
      let offset: number;
      if (offsetValue > 3) {
        offset = offsetValue - 3;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = offset;
      } else {
        const idx = offsetValue - (ll === 0 ? 0 : 1);
        if (idx === 0) {
          offset = rep0;
        } else {
          offset = idx === 1 ? rep1 : idx === 2 ? rep2 : rep0 - 1;
          if (idx !== 1) rep2 = rep1;
          rep1 = rep0;
          rep0 = offset;
        }
      }

      if (litPos + ll > litLimit) throw new BlockFormatError(p, `sequence ${i} takes more literals than the block has`);
      if (op + ll + ml > limit) throw new BlockFormatError(p, `sequence ${i} makes the block larger than ${this.maxBlock} bytes`);
      if (ll <= WIDE_RUN && op + ll + 3 <= limit && litPos + ll + 3 <= lit.length) {
        // Four bytes at a time; the up to 3 bytes written past the run are overwritten next (see WIDE_RUN).
        let k = 0;
        do {
          ringView.setInt32(op + k, litView.getInt32(litPos + k, true), true);
          k += 4;
        } while (k < ll);
      } else if (ll <= 16) {
        for (let k = 0; k < ll; k++) ring[op + k] = lit[litPos + k]!;
      } else {
        ring.set(lit.subarray(litPos, litPos + ll), op);
      }
      op += ll;
      litPos += ll;
      if (offset > before + op || offset > window || offset === 0) {
        throw new BlockFormatError(p, `sequence ${i} copies from ${offset} bytes back, before the start of the frame or its window`);
      }
      if (offset >= 4 && offset <= op && ml <= WIDE_RUN && op + ml + 3 <= limit) {
        // Each load reads bytes at least 4 behind the store, already final.
        const m = op - offset;
        let k = 0;
        do {
          ringView.setInt32(op + k, ringView.getInt32(m + k, true), true);
          k += 4;
        } while (k < ml);
        op += ml;
      } else if (offset <= op) {
        op = copyMatch(ring, op, op - offset, ml);
      } else {
        // The match starts in the previous lap of the ring and may run on into this one.
        const back = offset - op;
        const from = lapEnd - back;
        const first = ml < back ? ml : back;
        ring.copyWithin(op, from, from + first);
        op += first;
        if (ml > first) op = copyMatch(ring, op, 0, ml - first);
      }
    }
    if (bp !== low) throw new BlockFormatError(p, 'the sequences bit stream does not end where its sequences do');
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    const rest = litLimit - litPos;
    if (op + rest > limit) throw new BlockFormatError(p, `the block is larger than ${this.maxBlock} bytes`);
    this.pos = copyLiterals(ring, op, lit, litPos, rest);
  }

  private selectTable(kind: SeqKind, mode: number, src: Uint8Array, p: number, end: number): number {
    switch (mode) {
      case 0:
        this.current[kind] = predefinedTable(kind);
        return p;
      case 1:
        if (p >= end) throw new BlockFormatError(p, `the RLE ${kind} code is missing`);
        fillRleTable(kind, src[p]!, this.own[kind], p);
        this.current[kind] = this.own[kind];
        return p + 1;
      case 2:
        p += readSeqTable(kind, src, p, end, this.own[kind]);
        this.current[kind] = this.own[kind];
        return p;
      default:
        if (this.current[kind] === null) throw new BlockFormatError(p, `the ${kind} table repeats, but no earlier block of the frame has one`);
        return p;
    }
  }
}

/** Bits [from, from + n) of the view, n <= 25, least significant first (bit streams are little-endian). */
function bitsAt(view: DataView, from: number, n: number): number {
  return (view.getUint32(from >>> 3, true) >>> (from & 7)) & ((1 << n) - 1);
}

function copyLiterals(ring: Uint8Array, op: number, lit: Uint8Array, from: number, n: number): number {
  if (n > 0) ring.set(lit.subarray(from, from + n), op);
  return op + n;
}

/** Copies `len` bytes from `src` to `dst` (> src) in the ring, byte by byte in effect: overlap repeats the pattern. */
function copyMatch(ring: Uint8Array, dst: number, src: number, len: number): number {
  const dist = dst - src;
  if (len <= 16) {
    for (let k = 0; k < len; k++) ring[dst + k] = ring[src + k]!;
  } else if (dist >= len) {
    ring.copyWithin(dst, src, src + len);
  } else if (dist === 1) {
    ring.fill(ring[src]!, dst, dst + len);
  } else {
    // Each pass doubles the repeated stretch that can be copied in one go.
    let done = 0;
    let span = dist;
    while (done < len) {
      const n = Math.min(span, len - done);
      ring.copyWithin(dst + done, src, src + n);
      done += n;
      span += n;
    }
  }
  return dst + len;
}

/**
 * Decodes `count` literals from the backward Huffman bit stream src[start..end) into dst at `at`
 * (RFC 8878 §4.2.2). The stream must be used up exactly.
 */
function decodeHuffmanStream(src: Uint8Array, start: number, end: number, table: HuffmanTable, dst: Uint8Array, at: number, count: number): void {
  if (end <= start) throw new BlockFormatError(start, 'a literal stream is empty');
  const lastByte = src[end - 1]!;
  if (lastByte === 0) throw new BlockFormatError(end - 1, 'a literal stream lacks its end marker');
  const low = start * 8;
  let bp = (end - 1) * 8 + highBit(lastByte);
  const maxBits = table.maxBits;
  const mask = (1 << maxBits) - 1;
  const entries = table.entries;
  const stop = at + count;
  let o = at;
  // While two full peeks stay inside the stream, one 32-bit load holds both (2 * 11 + 7 bits).
  const twoLow = low + 2 * maxBits;
  const stopTwo = stop - 1;
  while (o < stopTwo && bp >= twoLow) {
    const i = (bp - 2 * maxBits) >> 3;
    const word = (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
    const base = i * 8 + maxBits;
    let e = entries[(word >>> (bp - base)) & mask]!;
    dst[o++] = e >>> 4;
    bp -= e & 15;
    e = entries[(word >>> (bp - base)) & mask]!;
    dst[o++] = e >>> 4;
    bp -= e & 15;
  }
  const fastLow = low + maxBits;
  while (o < stop && bp >= fastLow) {
    const from = bp - maxBits;
    const i = from >> 3;
    const e = entries[((src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16)) >>> (from & 7)) & mask]!;
    dst[o++] = e >>> 4;
    bp -= e & 15;
  }
  while (o < stop) {
    // Near the start of the stream the bits below it read as zero.
    const have = bp - low;
    const v = have <= 0 ? 0 : readBitsAt(src, low, have) << (maxBits - have);
    const e = entries[v & mask]!;
    dst[o++] = e >>> 4;
    bp -= e & 15;
    if (bp < low) throw new BlockFormatError(start, 'a literal stream ends before its literals');
  }
  if (bp !== low) throw new BlockFormatError(start, 'a literal stream does not end where its literals do');
}
