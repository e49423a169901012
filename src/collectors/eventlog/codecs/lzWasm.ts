/**
 * The raw-block decoders of LZ4, Snappy and LZF, and XXH32, in WebAssembly (lz.wat, assembled into
 * lzModule.ts). One LzMemory per stream: it holds one block's compressed bytes and output, grown to
 * the largest block seen, so streams decoded side by side never share memory.
 */
import { BlockFormatError } from './codecError';
import { LZ_WASM } from './lzModule';

type RawDecoder = (s: number, end: number, dst: number, cap: number) => number;

interface LzExports {
  memory: WebAssembly.Memory;
  errAt: WebAssembly.Global;
  errValue: WebAssembly.Global;
  xxh32(p: number, len: number, seed: number): number;
  lz4: RawDecoder;
  snappy: RawDecoder;
  lzf: RawDecoder;
}

export type LzFormat = 'lz4' | 'snappy' | 'lzf';

/** Bytes lz.wat may read or write past a run (its eight-byte copies of up to 32 bytes). */
const SLACK = 32;
const PAGE = 64 * 1024;

/**
 * What each of lz.wat's codes means in a format's words (`v`: errValue as read, unsigned). Each
 * format's decoder returns only its own codes.
 */
const DAMAGE: Readonly<Record<LzFormat, Readonly<Record<number, (v: number) => string>>>> = {
  lz4: {
    [-1]: () => 'the block ends without its final literals',
    [-2]: () => 'a literal length runs past the end of the block',
    [-3]: () => 'a match length runs past the end of the block',
    [-4]: (v) => `a run of ${v} literals runs past the end of the block`,
    [-5]: () => 'the block decodes to more bytes than its header says',
    [-6]: () => 'a match offset is cut off by the end of the block',
    [-7]: (v) => `a match refers ${v} bytes back, before the start of the block`,
  },
  snappy: {
    [-2]: () => 'a literal length is cut off by the end of the block',
    [-3]: () => 'a copy is cut off by the end of the block',
    [-5]: () => 'the block decodes to more bytes than its preamble says',
    [-7]: (v) => `a copy refers ${v} bytes back, before the start of the block`,
    [-8]: (v) => `a run of ${v + 1} literals runs past the end of the block`,
  },
  lzf: {
    [-3]: () => 'a back reference is cut off by the end of the chunk',
    [-4]: (v) => `a run of ${v} literals runs past the end of the chunk`,
    [-5]: () => 'the chunk decodes to more bytes than its header says',
    [-7]: (v) => `a back reference points ${v} bytes back, before the start of the chunk`,
  },
};

let compiled: WebAssembly.Module | undefined;

/** Compiled on first use, once a thread (each worker compiles its own). */
function lzModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(LZ_WASM, 'base64'));
  return compiled;
}

export class LzMemory {
  private readonly wasm: LzExports;
  /** Where the output starts: after the compressed bytes of the largest block so far and their slack. */
  private outAt = 0;

  constructor() {
    this.wasm = new WebAssembly.Instance(lzModule(), {}).exports as unknown as LzExports;
  }

  /**
   * Decodes the raw `format` block src[start, end) into at most `cap` bytes and returns them: a view
   * of this memory, valid until the next call. A damaged block is a BlockFormatError whose `at` is an
   * index into src.
   */
  decode(format: LzFormat, src: Uint8Array, start: number, end: number, cap: number): Uint8Array {
    const length = end - start;
    this.room(length, cap).set(src.subarray(start, end), 0);
    const written = this.wasm[format](0, length, this.outAt, cap);
    if (written < 0) {
      const words = DAMAGE[format][written];
      if (words === undefined) throw new Error(`lz.wat's ${format} decoder returned ${written}, which it never should`);
      throw new BlockFormatError(start + (this.wasm.errAt.value as number), words((this.wasm.errValue.value as number) >>> 0));
    }
    return new Uint8Array(this.wasm.memory.buffer, this.outAt, written);
  }

  /** `bytes` copied into this memory as a block's output (a block stored raw): a view valid until the next call. */
  store(bytes: Uint8Array): Uint8Array {
    this.room(0, bytes.length).set(bytes, this.outAt);
    return new Uint8Array(this.wasm.memory.buffer, this.outAt, bytes.length);
  }

  /** XXH32 with `seed` of `view`, a view this memory returned. */
  xxh32(view: Uint8Array, seed: number): number {
    return this.wasm.xxh32(view.byteOffset, view.length, seed) >>> 0;
  }

  /** The memory, grown to hold `input` compressed bytes and `output` decoded ones, each with slack. */
  private room(input: number, output: number): Uint8Array {
    this.outAt = Math.max(this.outAt, input + SLACK);
    const need = this.outAt + output + SLACK;
    const memory = this.wasm.memory;
    if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    return new Uint8Array(memory.buffer);
  }
}

/** XXH32 with `seed` of `bytes` (tests, and anything else that needs the checksum of bytes it holds). */
export function xxh32(bytes: Uint8Array, seed: number): number {
  const memory = new LzMemory();
  return memory.xxh32(memory.store(bytes), seed);
}
