/**
 * Writers for the framings Spark puts around its compressed event logs (see DESIGN.md §5), built
 * on independent compressor libraries so the decoders are checked against code they do not share:
 * lz4js and snappyjs for raw blocks, zstd-codec (the zstd C library compiled to WebAssembly) for
 * zstd. LZF blocks come from a small compressor here (lzfjs builds a JS array per block, too slow
 * for benchmark-sized logs). Synchronous, for tests and `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// These libraries ship no type declarations; the shapes below are the parts used here.
const load = createRequire(__filename);

interface Lz4js {
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
}
interface Snappyjs {
  compress(data: Uint8Array): Uint8Array;
}
interface Lz4jsXxh32 {
  hash(seed: number, src: Uint8Array, index: number, length: number): number;
}

const lz4js = load('lz4js') as Lz4js;
const snappyjs = load('snappyjs') as Snappyjs;

/** lz4js's own XXH32, as an independent reference for the decoder's checksum code. */
export function referenceXxh32(data: Uint8Array, seed: number): number {
  return (load('lz4js/xxh32.js') as Lz4jsXxh32).hash(seed, data, 0, data.length);
}

const LZ4_MAGIC = Buffer.from('LZ4Block', 'latin1');
const LZ4_SEED = 0x9747b28c;

function lz4Header(method: number, level: number, compressedLen: number, originalLen: number, checksum: number): Buffer {
  const h = Buffer.alloc(21);
  LZ4_MAGIC.copy(h, 0);
  h[8] = method | level;
  h.writeInt32LE(compressedLen, 9);
  h.writeInt32LE(originalLen, 13);
  h.writeInt32LE(checksum, 17);
  return h;
}

export interface Lz4Options {
  /** lz4-java's block size; Spark's default spark.io.compression.lz4.blockSize is 32 KiB. */
  blockSize?: number;
  /** Write the end-of-stream block, as LZ4BlockOutputStream.close() does; false = a stream still being written. */
  endMark?: boolean;
}

/** lz4-java LZ4BlockOutputStream: blocks of `blockSize` bytes, stored raw when LZ4 does not shrink them. */
export function lz4BlockStream(data: Uint8Array, opts: Lz4Options = {}): Buffer {
  const blockSize = opts.blockSize ?? 32 * 1024;
  const level = Math.max(0, Math.ceil(Math.log2(blockSize)) - 10);
  const parts: Buffer[] = [];
  const dst = new Uint8Array(blockSize + Math.floor(blockSize / 255) + 16);
  for (let at = 0; at < data.length; at += blockSize) {
    const block = data.subarray(at, Math.min(at + blockSize, data.length));
    // lz4-java compresses every block independently: a fresh hash table per block.
    const size = lz4js.compressBlock(block, dst, 0, block.length, new Uint32Array(1 << 16));
    const checksum = referenceXxh32(block, LZ4_SEED) & 0x0fffffff;
    if (size > 0 && size < block.length) {
      parts.push(lz4Header(0x20, level, size, block.length, checksum), Buffer.from(dst.subarray(0, size)));
    } else {
      parts.push(lz4Header(0x10, level, block.length, block.length, checksum), Buffer.from(block));
    }
  }
  if (opts.endMark ?? true) parts.push(lz4Header(0x10, level, 0, 0, 0));
  return Buffer.concat(parts);
}

const SNAPPY_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

/** snappy-java SnappyOutputStream: the 16-byte header, then int32 BE length + raw Snappy block per `blockSize` bytes. */
export function snappyStream(data: Uint8Array, opts: { blockSize?: number } = {}): Buffer {
  const blockSize = opts.blockSize ?? 32 * 1024;
  const parts: Buffer[] = [SNAPPY_HEADER];
  for (let at = 0; at < data.length; at += blockSize) {
    const compressed = snappyjs.compress(data.subarray(at, Math.min(at + blockSize, data.length)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(compressed.length, 0);
    parts.push(length, Buffer.from(compressed));
  }
  return Buffer.concat(parts);
}

/**
 * LZF (liblzf's format) compression of one block; returns null when it would not shrink the block.
 * Greedy, with a 3-byte hash of recent positions.
 */
export function lzfCompressBlock(src: Uint8Array): Uint8Array | null {
  const n = src.length;
  const out = new Uint8Array(n + Math.ceil(n / 32) + 1);
  const table = new Int32Array(1 << 14).fill(-1);
  let o = 0;
  let litStart = 0;
  const flushLiterals = (end: number): void => {
    for (let s = litStart; s < end; ) {
      const run = Math.min(32, end - s);
      out[o++] = run - 1;
      for (let i = 0; i < run; i++) out[o++] = src[s + i]!;
      s += run;
    }
  };
  let p = 0;
  while (p + 2 < n) {
    const key = (src[p]! << 16) | (src[p + 1]! << 8) | src[p + 2]!;
    const slot = (Math.imul(key, 0x9e3779b1) >>> 18) & 0x3fff;
    const ref = table[slot]!;
    table[slot] = p;
    const offset = p - ref;
    if (ref >= 0 && offset <= 8192 && src[ref] === src[p] && src[ref + 1] === src[p + 1] && src[ref + 2] === src[p + 2]) {
      let len = 3;
      const max = Math.min(264, n - p);
      while (len < max && src[ref + len] === src[p + len]) len++;
      flushLiterals(p);
      // A back reference stores length - 2 (7 in the control byte means "plus the next byte") and offset - 1.
      const l = len - 2;
      const off = offset - 1;
      if (l < 7) {
        out[o++] = (l << 5) | (off >>> 8);
      } else {
        out[o++] = (7 << 5) | (off >>> 8);
        out[o++] = l - 7;
      }
      out[o++] = off & 0xff;
      p += len;
      litStart = p;
    } else {
      p++;
    }
    if (o >= n) return null;
  }
  flushLiterals(n);
  return o < n ? out.subarray(0, o) : null;
}

/** ning compress-lzf LZFOutputStream: `ZV` chunks of up to 65535 bytes, stored when LZF does not shrink them. */
export function lzfStream(data: Uint8Array, opts: { chunkSize?: number } = {}): Buffer {
  const chunkSize = Math.min(opts.chunkSize ?? 0xffff, 0xffff);
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) {
    const chunk = data.subarray(at, Math.min(at + chunkSize, data.length));
    const compressed = lzfCompressBlock(chunk);
    if (compressed !== null) {
      const h = Buffer.from([0x5a, 0x56, 1, 0, 0, 0, 0]);
      h.writeUInt16BE(compressed.length, 3);
      h.writeUInt16BE(chunk.length, 5);
      parts.push(h, Buffer.from(compressed));
    } else {
      const h = Buffer.from([0x5a, 0x56, 0, 0, 0]);
      h.writeUInt16BE(chunk.length, 3);
      parts.push(h, Buffer.from(chunk));
    }
  }
  return Buffer.concat(parts);
}

/** The parts of the zstd-codec Emscripten module used here. */
interface ZstdBinding {
  ZstdCompressStreamBinding: new () => {
    begin(level: number): boolean;
    transform(data: Uint8Array, sink: (out: Uint8Array) => void): boolean;
    end(sink: (out: Uint8Array) => void): boolean;
    delete(): void;
  };
}

let zstdBinding: ZstdBinding | null = null;

/** The WebAssembly API, which the project's lib setting (ES2022, no DOM) leaves untyped. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

/**
 * zstd-codec starts its WebAssembly asynchronously; handing Emscripten an instantiateWasm hook that
 * instantiates synchronously (the module embeds its .wasm as a base64 data URI) makes it usable
 * from synchronous code.
 */
function zstd(): ZstdBinding {
  if (zstdBinding !== null) return zstdBinding;
  const file = load.resolve('zstd-codec/lib/zstd-codec-binding-wasm.js');
  const base64 = /data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(file, 'latin1'))?.[1];
  if (base64 === undefined) throw new Error(`no embedded wasm found in ${file}`);
  const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const wasm = new wasmApi.Module(Buffer.from(base64, 'base64'));
  let ready = false;
  const module: Record<string, unknown> = {
    onRuntimeInitialized: () => {
      ready = true;
    },
    instantiateWasm: (imports: object, receive: (instance: { exports: object }) => void): object => {
      const instance = new wasmApi.Instance(wasm, imports);
      receive(instance);
      return instance.exports;
    },
  };
  (load(file) as (m: Record<string, unknown>) => void)(module);
  if (!ready) throw new Error('zstd-codec did not initialise synchronously');
  zstdBinding = module as unknown as ZstdBinding;
  return zstdBinding;
}

/**
 * One zstd frame per `frameSize` input bytes (zstd-codec's streaming compressor, no checksum), back
 * to back. Level 1 is Spark's default (spark.io.compression.zstd.level); above 9 the compressor
 * needs more than zstd-codec's fixed 16 MiB WebAssembly heap.
 */
export function zstdFrames(data: Uint8Array, opts: { frameSize?: number; level?: number } = {}): Buffer {
  const frameSize = opts.frameSize ?? 4 * 1024 * 1024;
  const level = opts.level ?? 1;
  if (level > 9) throw new Error(`zstd level ${level}: zstd-codec runs out of memory above level 9`);
  const binding = zstd();
  const parts: Buffer[] = [];
  const sink = (out: Uint8Array): void => {
    parts.push(Buffer.from(out));
  };
  for (let at = 0; at < data.length; at += frameSize) {
    const frame = data.subarray(at, Math.min(at + frameSize, data.length));
    const stream = new binding.ZstdCompressStreamBinding();
    try {
      if (!stream.begin(level)) throw new Error('zstd begin failed');
      // The WebAssembly heap is 16 MiB: feed it in slices.
      for (let i = 0; i < frame.length; i += 1 << 20) {
        if (!stream.transform(frame.subarray(i, Math.min(i + (1 << 20), frame.length)), sink)) throw new Error('zstd transform failed');
      }
      if (!stream.end(sink)) throw new Error('zstd end failed');
    } finally {
      stream.delete();
    }
  }
  return Buffer.concat(parts);
}
