/**
 * Streaming decoders for the codecs Spark writes event logs with (CompressionCodec.scala: lz4, lzf,
 * snappy, zstd) and for gzip (Databricks). Each framing lives in its own file; see DESIGN.md §5.
 */
import { ByteReader } from './byteReader';
import { decodeGzip } from './gzip';
import { decodeLz4Block } from './lz4Block';
import { decodeLzf } from './lzf';
import { decodeSnappyStream } from './snappyStream';
import { decodeZstd } from './zstd';

export { CodecError } from './codecError';
export { DEFAULT_MAX_ZSTD_WINDOW_MB, MAX_ZSTD_WINDOW_MB_LIMIT } from './zstd';

export interface DecodeOptions {
  /**
   * Largest zstd window a frame may need, in MiB (1 to MAX_ZSTD_WINDOW_MB_LIMIT, default
   * DEFAULT_MAX_ZSTD_WINDOW_MB = 128, zstd's own default). Decoding holds about this much memory.
   */
  maxZstdWindowMb?: number;
}

export type Codec = 'none' | 'gzip' | 'lz4' | 'lzf' | 'snappy' | 'zstd';

const SUFFIXES: Readonly<Record<string, Codec>> = {
  lz4: 'lz4',
  lzf: 'lzf',
  snappy: 'snappy',
  zstd: 'zstd',
  zst: 'zstd',
  gz: 'gzip',
};

/**
 * Codec from a file name's suffix, ignoring a trailing `.inprogress` (e.g. `app-1.lz4.inprogress`
 * -> 'lz4'; `eventlog-2024-01-01--10-00.gz` -> 'gzip'; `.zst` and `.zstd` -> 'zstd'; anything else
 * 'none'). Like Spark's EventLogFileReader.codecName it also ignores `.compact` (compacted rolling
 * logs are named `events_N_app.lz4.compact`).
 */
export function codecFromName(fileName: string): Codec {
  let name = fileName.toLowerCase();
  for (;;) {
    if (name.endsWith('.inprogress')) name = name.slice(0, -'.inprogress'.length);
    else if (name.endsWith('.compact')) name = name.slice(0, -'.compact'.length);
    else break;
  }
  const suffix = name.slice(name.lastIndexOf('.') + 1);
  if (/[/\\]/.test(suffix) || suffix === name) return 'none';
  return SUFFIXES[suffix] ?? 'none';
}

async function* passThrough(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of input) if (chunk.length > 0) yield chunk;
}

async function* decodeFramed(codec: Exclude<Codec, 'none'>, input: AsyncIterable<Buffer>, file: string, options: DecodeOptions): AsyncGenerator<Buffer> {
  const reader = new ByteReader(input);
  try {
    if (await reader.atEnd()) return;
    switch (codec) {
      case 'lz4':
        yield* decodeLz4Block(reader, file);
        break;
      case 'snappy':
        yield* decodeSnappyStream(reader, file);
        break;
      case 'lzf':
        yield* decodeLzf(reader, file);
        break;
      case 'zstd':
        yield* decodeZstd(reader, file, { maxWindowMb: options.maxZstdWindowMb });
        break;
      case 'gzip':
        yield* decodeGzip(reader, file);
        break;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Streams decompressed bytes. Yields every complete decompressed block before throwing CodecError.
 * Memory stays bounded by a few blocks, never the whole file; zstd also keeps its frame's window (at
 * most `options.maxZstdWindowMb`; a frame that needs more is a CodecError naming that option). A bad
 * option value is a RangeError. 'none' passes chunks through. An empty input yields nothing. Errors
 * of the input itself (I/O) pass through unchanged.
 */
export function decode(codec: Codec, input: AsyncIterable<Buffer>, file: string, options: DecodeOptions = {}): AsyncIterable<Buffer> {
  return codec === 'none' ? passThrough(input) : decodeFramed(codec, input, file, options);
}
