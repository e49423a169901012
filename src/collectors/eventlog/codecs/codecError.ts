/** Raised by decode(); see index.ts for the contract. */
export class CodecError extends Error {
  readonly offset: number;
  readonly truncated: boolean;
  readonly file: string;
  /** What is wrong, without the file name (for reports that show the file separately). */
  readonly problem: string;

  constructor(file: string, offset: number, truncated: boolean, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CodecError';
    this.file = file;
    this.problem = problem;
    this.offset = offset;
    this.truncated = truncated;
  }
}

/**
 * The file decompresses to more than the ratio allows (index.ts, DecodeOptions.maxDecompressionRatio):
 * a decompression bomb, or a log so repetitive that only a raised limit reads it. Not damage.
 */
export class DecompressionLimitError extends CodecError {
  constructor(file: string, offset: number, problem: string) {
    super(file, offset, false, problem);
    this.name = 'DecompressionLimitError';
  }
}

/** The input ended inside a block or frame: normal for a log Spark is still writing. */
export function truncatedError(file: string, offset: number, what: string, detail?: string): CodecError {
  const more = detail === undefined ? '' : ` (${detail})`;
  return new CodecError(file, offset, true, `the file ends inside ${what} starting at byte ${offset}${more}; it was cut off or is still being written`);
}

const KNOWN_STARTS: readonly { bytes: readonly number[]; name: string }[] = [
  { bytes: [0x1f, 0x8b], name: 'gzip data (use the .gz suffix)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd data (use the .zstd suffix)' },
  { bytes: [...Buffer.from('LZ4Block', 'latin1')], name: 'lz4-java LZ4Block data (use the .lz4 suffix)' },
  { bytes: [0x04, 0x22, 0x4d, 0x18], name: 'a standard LZ4 frame (the lz4 command-line format, not the lz4-java LZ4Block stream Spark writes)' },
  { bytes: [0x82, ...Buffer.from('SNAPPY', 'latin1'), 0x00], name: 'snappy-java stream data (use the .snappy suffix)' },
  { bytes: [0xff, 0x06, 0x00, 0x00, ...Buffer.from('sNaPpY', 'latin1')], name: 'the Snappy framing format (x-snappy-framed), not the snappy-java stream Spark writes' },
  { bytes: [0x5a, 0x56, 0x00], name: 'LZF data (use the .lzf suffix)' },
  { bytes: [0x5a, 0x56, 0x01], name: 'LZF data (use the .lzf suffix)' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], name: 'a zip archive (unzip it first)' },
];

function startsWith(b: Uint8Array, prefix: readonly number[]): boolean {
  return b.length >= prefix.length && prefix.every((v, i) => b[i] === v);
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 256);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    // Control characters other than tab/newline/carriage return mean binary; bytes >= 0x80 may be UTF-8.
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** Names what a file's first bytes look like, for "expected X, found Y" messages. */
export function describeBytes(b: Uint8Array): string {
  for (const known of KNOWN_STARTS) if (startsWith(b, known.bytes)) return known.name;
  if (looksLikeText(b)) {
    const text = Buffer.from(b.subarray(0, 40)).toString('utf8').replace(/\s+/g, ' ');
    return `plain text ${JSON.stringify(text)}${b.length > 40 ? '…' : ''} (if the log is not compressed, remove the codec suffix from its name)`;
  }
  const hex = Buffer.from(b.subarray(0, 8)).toString('hex').replace(/(..)(?=.)/g, '$1 ');
  return `bytes ${hex}`;
}

/** Error for a wrong magic number; at byte 0 it says the file is not this codec at all. */
export function badMagicError(file: string, offset: number, format: string, magic: string, found: Uint8Array): CodecError {
  const problem =
    offset === 0
      ? `not ${format}: expected magic ${magic} at byte 0, found ${describeBytes(found)}`
      : `corrupt ${format}: expected magic ${magic} at byte ${offset}, found ${describeBytes(found)}`;
  return new CodecError(file, offset, false, problem);
}

/**
 * At end of input inside a header that starts with a magic number: a tail that begins as the magic
 * does (as far as either goes) is a cut-off file, anything else is not this codec.
 */
export function shortTailError(file: string, offset: number, tail: Uint8Array, magic: Uint8Array, format: string, magicText: string, what: string): CodecError {
  if (tail.every((v, i) => i >= magic.length || v === magic[i])) return truncatedError(file, offset, what);
  return badMagicError(file, offset, format, magicText, tail);
}

/**
 * Thrown by the raw block decoders with the index in their input array where the damage is; the
 * framing turns it into a CodecError with the file name and the offset in the whole input.
 */
export class BlockFormatError extends Error {
  readonly at: number;

  constructor(at: number, reason: string) {
    super(reason);
    this.name = 'BlockFormatError';
    this.at = at;
  }
}

/**
 * Runs a raw block decoder on a block that starts at byte `at` of the file; a BlockFormatError it
 * throws becomes `corrupt(why, where)` at the damaged byte of the file. Other errors pass through.
 */
export function decodeBlockAt<T>(at: number, corrupt: (why: string, where: number) => CodecError, decodeRaw: () => T): T {
  try {
    return decodeRaw();
  } catch (err) {
    if (!(err instanceof BlockFormatError)) throw err;
    const where = at + err.at;
    throw corrupt(`is damaged at byte ${where}: ${err.message}`, where);
  }
}
