/**
 * LZ4 block decoding and XXH32 in WebAssembly (lz4.wat, assembled into lz4Module.ts). One
 * Lz4Memory per stream: it keeps one block's compressed bytes and output, grown to the largest block
 * seen, so streams decoded side by side never share memory.
 */
import { BlockFormatError } from './codecError';
import { LZ4_WASM } from './lz4Module';

interface Lz4Exports {
  memory: WebAssembly.Memory;
  errAt: WebAssembly.Global;
  errValue: WebAssembly.Global;
  xxh32(p: number, len: number, seed: number): number;
  lz4(s: number, end: number, dst: number, cap: number): number;
}

/** Bytes lz4.wat may read or write past a run (its eight-byte copies of up to 32 bytes). */
const SLACK = 32;
const PAGE = 64 * 1024;

let compiled: WebAssembly.Module | undefined;

/** Compiled on first use, once a process (a thread: each worker compiles its own). */
function lz4Module(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(LZ4_WASM, 'base64'));
  return compiled;
}

/** What lz4.wat's codes mean, in the words of the block's CodecError. */
function damage(code: number, value: number): string {
  switch (code) {
    case -1:
      return 'the block ends without its final literals';
    case -2:
      return 'a literal length runs past the end of the block';
    case -3:
      return 'a match length runs past the end of the block';
    case -4:
      return `a run of ${value} literals runs past the end of the block`;
    case -5:
      return 'the block decodes to more bytes than its header says';
    case -6:
      return 'a match offset is cut off by the end of the block';
    case -7:
      return `a match refers ${value} bytes back, before the start of the block`;
    default:
      throw new Error(`lz4.wat returned ${code}, which no code means`);
  }
}

export class Lz4Memory {
  private readonly wasm: Lz4Exports;
  /** Where the output starts: after the compressed bytes of the largest block so far and their slack. */
  private outAt = 0;

  constructor() {
    this.wasm = new WebAssembly.Instance(lz4Module(), {}).exports as unknown as Lz4Exports;
  }

  /**
   * Decodes the raw LZ4 block src[start, end) into at most `cap` bytes and returns them: a view of
   * this memory, valid until the next call. A damaged block is a BlockFormatError whose `at` is an
   * index into src.
   */
  decode(src: Uint8Array, start: number, end: number, cap: number): Uint8Array {
    const length = end - start;
    const bytes = this.room(length, cap);
    bytes.set(src.subarray(start, end), 0);
    const written = this.wasm.lz4(0, length, this.outAt, cap);
    if (written < 0) throw new BlockFormatError(start + (this.wasm.errAt.value as number), damage(written, this.wasm.errValue.value as number));
    return new Uint8Array(this.wasm.memory.buffer, this.outAt, written);
  }

  /** `bytes` copied into this memory as a block's output (a block stored raw): a view valid until the next call. */
  store(bytes: Uint8Array): Uint8Array {
    const memory = this.room(0, bytes.length);
    memory.set(bytes, this.outAt);
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
  const memory = new Lz4Memory();
  return memory.xxh32(memory.store(bytes), seed);
}
