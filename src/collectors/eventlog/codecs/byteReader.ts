import { truncatedError } from './codecError';

/**
 * Pull-based reader over a stream of chunks for the block framings: waits for a header or a whole
 * block, then hands it out contiguously, without copying when it lies inside one chunk. Holds only
 * what the current block needs plus the rest of the last chunk read.
 */
export class ByteReader {
  private readonly source: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private buffered = 0;
  private ended = false;
  /** Offset in the whole input of the next unread byte. */
  position = 0;

  constructor(input: AsyncIterable<Buffer>) {
    this.source = input[Symbol.asyncIterator]();
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.buffered;
  }

  /** Pulls chunks until `n` bytes are buffered; false if the input ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.ended) return false;
      const next = await this.source.next();
      if (next.done === true) {
        this.ended = true;
        return false;
      }
      const chunk = next.value;
      if (chunk.length > 0) {
        this.chunks.push(chunk);
        this.buffered += chunk.length;
      }
    }
    return true;
  }

  /** True when nothing is buffered and the input has ended. */
  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  /** The next `n` bytes (n <= available), contiguous, not consumed: a view of an input chunk or a copy; neither changes later. */
  peek(n: number): Buffer {
    if (n > this.buffered) throw new RangeError(`peek(${n}) with only ${this.buffered} bytes buffered`);
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    // The bytes span chunks: copy exactly those into one buffer and keep the rest as it was.
    const merged = Buffer.allocUnsafe(n);
    let filled = 0;
    let from = this.head;
    let i = 0;
    const rest: Buffer[] = [merged];
    for (; filled < n; i++) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length - from, n - filled);
      c.copy(merged, filled, from, from + take);
      filled += take;
      if (from + take < c.length) rest.push(c.subarray(from + take));
      from = 0;
    }
    for (; i < this.chunks.length; i++) rest.push(this.chunks[i]!);
    this.chunks = rest;
    this.head = 0;
    return merged;
  }

  /**
   * The block at the read position, its `header` bytes and the `body` bytes the header declares,
   * contiguous and not consumed (as peek). When the input ends first, a CodecError: the file is cut
   * off inside `what`.
   */
  async peekBlock(header: number, body: number, file: string, what: string): Promise<Buffer> {
    if (!(await this.ensure(header + body))) throw truncatedError(file, this.position, what, `${body} bytes, only ${this.buffered - header} present`);
    return this.peek(header + body);
  }

  /** Consumes `n` buffered bytes (n <= available). */
  skip(n: number): void {
    if (n > this.buffered) throw new RangeError(`skip(${n}) with only ${this.buffered} bytes buffered`);
    this.buffered -= n;
    this.position += n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      const inFirst = first.length - this.head;
      if (left < inFirst) {
        this.head += left;
        return;
      }
      left -= inFirst;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Consumes up to `n` bytes, reading past the buffer; returns how many were skipped before the input ended. */
  async discard(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.ensure(1))) break;
      const take = Math.min(left, this.buffered);
      this.skip(take);
      left -= take;
    }
    return n - left;
  }

  /** Lets the source release its resources (a file handle) when decoding stops early. */
  async close(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    if (!this.ended) {
      this.ended = true;
      await this.source.return?.();
    }
  }
}
