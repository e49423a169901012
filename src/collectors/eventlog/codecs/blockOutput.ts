/**
 * Where the LZ4, Snappy and LZF framings decode each block: a fresh buffer per block, or, when the
 * caller asked for DecodeOptions.reuseOutput, the same memory every time. Reusing it saves an
 * allocation per block (LZ4 ~8% faster in scripts/codecBench.mjs, issue 12) and keeps the output in
 * the CPU's cache; it is safe only for a caller that is done with a chunk before asking for the next.
 */
export class BlockOutput {
  private spare: Buffer | null;

  constructor(reuse: boolean) {
    this.spare = reuse ? Buffer.allocUnsafe(0) : null;
  }

  /** A buffer of exactly `n` bytes for the next block: new, or the memory the previous block had. */
  take(n: number): Buffer {
    if (this.spare === null) return Buffer.allocUnsafe(n);
    if (this.spare.length < n) this.spare = Buffer.allocUnsafe(n);
    return this.spare.subarray(0, n);
  }

  /**
   * A block decoded into memory the decoder overwrites with the next one (lzWasm.ts's WebAssembly memory),
   * as the chunk to yield: that memory itself when reusing, a copy otherwise.
   */
  handOut(decoded: Uint8Array): Buffer {
    if (this.spare !== null) return Buffer.from(decoded.buffer, decoded.byteOffset, decoded.length);
    const out = Buffer.allocUnsafe(decoded.length);
    out.set(decoded);
    return out;
  }
}
