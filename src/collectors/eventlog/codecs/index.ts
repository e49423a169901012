/**
 * Streaming decoders for the codecs Spark writes event logs with (CompressionCodec.scala: lz4, lzf,
 * snappy, zstd) and for gzip (Databricks). Each framing lives in its own file; see DESIGN.md §5.
 */
import { formatBytes } from '../../../common/format';
import { BlockOutput } from './blockOutput';
import { ByteReader } from './byteReader';
import { DecompressionLimitError } from './codecError';
import { decodeGzip } from './gzip';
import { decodeLz4Block } from './lz4Block';
import { decodeLzf } from './lzf';
import { decodeSnappyStream } from './snappyStream';
import { decodeZstd } from './zstd';

export { CodecError, DecompressionLimitError } from './codecError';
export { DEFAULT_MAX_ZSTD_WINDOW_MB, MAX_ZSTD_WINDOW_MB_LIMIT } from './zstd';

export interface DecodeOptions {
  /**
   * Largest zstd window a frame may need, in MiB (1 to MAX_ZSTD_WINDOW_MB_LIMIT, default
   * DEFAULT_MAX_ZSTD_WINDOW_MB = 128, zstd's own default). Decoding holds about this much memory.
   */
  maxZstdWindowMb?: number;
  /**
   * Most decompressed bytes per compressed byte read (MIN_.. to MAX_DECOMPRESSION_RATIO_LIMIT, default
   * DEFAULT_MAX_DECOMPRESSION_RATIO). Past RATIO_FREE_BYTES of output, decoding stops with a
   * DecompressionLimitError once the output outgrows the input read so far by more than this.
   */
  maxDecompressionRatio?: number;
  /**
   * The caller is done with each chunk before it asks for the next (splitLines is: it copies what
   * it keeps). The decoders may then hand out memory they overwrite later: one buffer for every
   * LZ4, Snappy or LZF block instead of a new one each, and zstd's window itself instead of a copy
   * of each block. Default false: every chunk stays as it was given.
   */
  reuseOutput?: boolean;
}

/**
 * Real event logs compress about 5-20x (zstd's highest levels on repetitive logs a few times more);
 * issue 13's bomb, 2 MB of zstd RLE blocks, expands 10,000x to 20 GiB and took 115 s to read. The
 * formats themselves cap the rest: deflate at about 1,032x, LZ4 at 255x, LZF at 88x, Snappy at 21x.
 */
export const DEFAULT_MAX_DECOMPRESSION_RATIO = 1000;
export const MIN_DECOMPRESSION_RATIO = 2;
export const MAX_DECOMPRESSION_RATIO_LIMIT = 1_000_000;
/** Output always allowed whatever the ratio: a small file may expand a lot (a test log, a header-only stream) without being a bomb. */
export const RATIO_FREE_BYTES = 16 * 2 ** 20;
/** The option that raises the ratio limit, named in the error that stops a file. */
const RATIO_OPTION = 'max_decompression_ratio (config), --max-decompression-ratio (CLI) or sparkOptimizer.maxDecompressionRatio (editor)';

export type Codec = 'none' | 'gzip' | 'lz4' | 'lzf' | 'snappy' | 'zstd';

const SUFFIXES: Readonly<Record<string, Codec>> = {
  lz4: 'lz4',
  lzf: 'lzf',
  snappy: 'snappy',
  zstd: 'zstd',
  zst: 'zstd',
  gz: 'gzip',
};
/** The file-name suffixes (without the dot) that name a codec: the one list the collectors and the editor go by. */
export const CODEC_SUFFIXES: readonly string[] = Object.keys(SUFFIXES);

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

function framing(codec: Exclude<Codec, 'none'>, reader: ByteReader, file: string, options: DecodeOptions): AsyncGenerator<Buffer> {
  switch (codec) {
    case 'lz4':
      return decodeLz4Block(reader, file, new BlockOutput(options.reuseOutput === true));
    case 'snappy':
      return decodeSnappyStream(reader, file, new BlockOutput(options.reuseOutput === true));
    case 'lzf':
      return decodeLzf(reader, file, new BlockOutput(options.reuseOutput === true));
    case 'zstd':
      return decodeZstd(reader, file, { maxWindowMb: options.maxZstdWindowMb, reuseOutput: options.reuseOutput });
    case 'gzip':
      return decodeGzip(reader, file);
  }
}

async function* decodeFramed(codec: Exclude<Codec, 'none'>, input: AsyncIterable<Buffer>, file: string, options: DecodeOptions): AsyncGenerator<Buffer> {
  const ratio = options.maxDecompressionRatio ?? DEFAULT_MAX_DECOMPRESSION_RATIO;
  if (!(Number.isFinite(ratio) && ratio >= MIN_DECOMPRESSION_RATIO && ratio <= MAX_DECOMPRESSION_RATIO_LIMIT)) {
    throw new RangeError(`the decompression ratio limit must be a number from ${MIN_DECOMPRESSION_RATIO} to ${MAX_DECOMPRESSION_RATIO_LIMIT}, not ${ratio}`);
  }
  const reader = new ByteReader(input);
  let out = 0;
  // One comparison per decoded block; the ratio is worked out only when the output reaches what the input read so far allows.
  let allowed = RATIO_FREE_BYTES;
  try {
    if (await reader.atEnd()) return;
    for await (const chunk of framing(codec, reader, file, options)) {
      out += chunk.length;
      if (out > allowed) {
        allowed = Math.max(RATIO_FREE_BYTES, ratio * reader.position);
        if (out > allowed) {
          throw new DecompressionLimitError(
            file,
            reader.position,
            `the first ${formatBytes(reader.position)} of the file decompress to ${formatBytes(out)} or more, over ${ratio} times their size: stopped there, as a decompression bomb could fill the memory or take hours. Real event logs compress about 5-20x; if this one is real, raise ${RATIO_OPTION}`,
          );
        }
      }
      yield chunk;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Streams decompressed bytes. Yields every complete decompressed block before throwing CodecError.
 * Memory stays bounded by a few blocks, never the whole file; zstd also keeps its frame's window (at
 * most `options.maxZstdWindowMb`; a frame that needs more is a CodecError naming that option). The
 * output stays within max(RATIO_FREE_BYTES, `options.maxDecompressionRatio` x the input read): past
 * that, a DecompressionLimitError (a CodecError) naming the option. A bad option value is a RangeError. 'none' passes chunks through. An empty input yields nothing. Errors
 * of the input itself (I/O) pass through unchanged.
 */
export function decode(codec: Codec, input: AsyncIterable<Buffer>, file: string, options: DecodeOptions = {}): AsyncIterable<Buffer> {
  return codec === 'none' ? passThrough(input) : decodeFramed(codec, input, file, options);
}
