/**
 * A JSON array answer read entry by entry as its bytes arrive: a History Server `/stages` of tens
 * of thousands of stage attempts (each ~3 KB, mostly a stack trace and executor peak metrics we
 * never read) is handed to the caller one entry at a time, so that what stays in memory is what the
 * caller keeps of each entry, not the answer.
 *
 * The bytes are split at the array's top-level commas by a scanner that tracks only strings and
 * nesting depth (a string's body is skipped with `indexOf('"')`), and each entry is parsed with
 * JSON.parse, several times faster than a token stream (one 200 MB stage list: 1.2 s against 4.2 s
 * through the pruned token reader). An entry whose bytes pile up past ENTRY_WHOLE_BYTES over several
 * chunks is not held: from there on it goes through the pruned token reader (jsonStream.ts), which
 * keeps only what `keep` names (one that lies whole in one chunk is parsed whole: the chunk is held
 * anyway).
 *
 * What is accepted is exactly JSON: an entry JSON.parse accepts has no top-level comma and balanced
 * brackets, so the split cannot cut a valid entry; anything else is a SyntaxError from here or from
 * JSON.parse.
 */
import { PrunedJsonReader, type Keep, type loadTokenizer } from './jsonStream';
import { KEPT_COST } from './keptCost';

/** An entry up to this size is parsed whole with JSON.parse; a larger one as a pruned token stream. */
export const ENTRY_WHOLE_BYTES = 1024 * 1024;

type Tokenizer = Awaited<ReturnType<typeof loadTokenizer>>;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where the reader is: before the `[`, where an entry (or, first, the `]`) may start, inside one, after the `]`. */
const BEFORE = 0;
const FIRST = 1;
const NEXT = 2;
const ENTRY = 3;
const AFTER = 4;

/** The body is not a JSON array: its first character, for the caller to read it another way. */
export class NotAListError extends Error {
  constructor(readonly first: number) {
    super(`the answer is not a JSON array (it starts with ${JSON.stringify(String.fromCharCode(first))})`);
    this.name = 'NotAListError';
  }
}

/** One entry is larger than the reader's `maxEntryBytes`: it is not read further. */
export class EntryTooLargeError extends Error {
  constructor(
    readonly index: number,
    readonly limit: number,
  ) {
    super(`entry ${index} is larger than ${limit} bytes`);
    this.name = 'EntryTooLargeError';
  }
}

/**
 * Reads one JSON array from bytes written in pieces and calls `onEntry` with each entry, in order,
 * as soon as its last byte has come. `write` and `end` throw a SyntaxError on malformed JSON, a
 * `NotAListError` when the first character is not `[`, `EntryTooLargeError` once an entry's bytes
 * pass `maxEntryBytes`, and whatever `onEntry` throws.
 */
export class JsonListReader {
  /** Entries given so far. */
  entries = 0;
  private state = BEFORE;
  private depth = 0;
  private inString = false;
  /** The last byte of the previous chunk was a backslash that escapes the next one. */
  private escaped = false;
  /** The current entry's bytes from earlier chunks (while it is parsed whole). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The current entry's bytes so far, all of its chunks. */
  private entryBytes = 0;
  /** The current entry, once it passed ENTRY_WHOLE_BYTES. */
  private pruned: PrunedJsonReader | null = null;

  constructor(
    /** What to keep of an entry that is read as a token stream. */
    private readonly keep: Keep,
    private readonly tokenizer: Tokenizer,
    private readonly onEntry: (value: unknown, index: number) => void,
    /** What a pruned entry may still keep (the caller's budget left); it throws KeptTooMuchError past it. */
    private readonly room: () => number = () => Infinity,
    private readonly entryWholeBytes = ENTRY_WHOLE_BYTES,
    /** The most one entry may take (getList: the answer limit): a larger one is not read further. */
    private readonly maxEntryBytes = Infinity,
  ) {}

  /** Whether the `[` has come (before it, only whitespace was read). */
  get started(): boolean {
    return this.state !== BEFORE;
  }

  write(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.state === ENTRY) {
        i = this.scan(chunk, i);
        continue;
      }
      const c = chunk[i]!;
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (this.state === BEFORE) {
        if (c !== OPEN_ARRAY) throw new NotAListError(c);
        this.state = FIRST;
        i++;
      } else if (this.state === AFTER) {
        throw new SyntaxError(`Unexpected ${JSON.stringify(String.fromCharCode(c))} after the end of the array`);
      } else if (c === CLOSE_ARRAY && this.state === FIRST) {
        this.state = AFTER;
        i++;
      } else if (c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        throw new SyntaxError(`Unexpected ${JSON.stringify(String.fromCharCode(c))} where entry ${this.entries} should start`);
      } else {
        this.state = ENTRY;
        this.depth = 0;
        this.entryBytes = 0;
      }
    }
  }

  end(): void {
    if (this.state !== AFTER) throw new SyntaxError('Unexpected end of JSON input');
  }

  /** Scans the current entry from `i`; returns where the scan stopped (after the entry's `,` or `]`, or the chunk's end). */
  private scan(chunk: Buffer, from: number): number {
    const n = chunk.length;
    let i = from;
    for (;;) {
      if (this.inString) {
        if (this.escaped) {
          if (i >= n) break;
          this.escaped = false;
          i++;
        }
        const q = chunk.indexOf(QUOTE, i);
        // The string goes on past this chunk: does the chunk end in an escaping backslash?
        const at = q === -1 ? n : q;
        let k = at - 1;
        while (k >= i && chunk[k] === BACKSLASH) k--;
        const odd = (at - 1 - k) % 2 === 1;
        if (q === -1) {
          this.escaped = odd;
          i = n;
          break;
        }
        i = q + 1;
        if (!odd) this.inString = false;
        continue;
      }
      if (i >= n) break;
      const c = chunk[i]!;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (this.depth === 0) {
          if (c === CLOSE_OBJECT) throw new SyntaxError(`Unexpected "}" in entry ${this.entries}`);
          this.finish(chunk, from, i);
          this.state = AFTER;
          return i + 1;
        }
        this.depth--;
      } else if (c === COMMA && this.depth === 0) {
        this.finish(chunk, from, i);
        this.state = NEXT;
        return i + 1;
      }
      i++;
    }
    this.grow(n - from);
    this.hold(chunk.subarray(from, n));
    return n;
  }

  /** Keeps a piece of the current entry: in memory while it is small, in the pruned reader past that. */
  private hold(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.pruned !== null) {
      this.pruned.write(piece);
      return;
    }
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.entryWholeBytes) {
      this.pruned = new PrunedJsonReader(this.keep, this.tokenizer, this.room());
      for (const p of this.pending) this.pruned.write(p);
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  /** Counts `bytes` more of the current entry; past `maxEntryBytes` the entry is refused. */
  private grow(bytes: number): void {
    this.entryBytes += bytes;
    if (this.entryBytes > this.maxEntryBytes) throw new EntryTooLargeError(this.entries, this.maxEntryBytes);
  }

  /** The entry ends before `end` in `chunk`: parse it and hand it on. */
  private finish(chunk: Buffer, from: number, end: number): void {
    this.grow(end - from);
    let value: unknown;
    if (this.pruned !== null) {
      this.pruned.write(chunk.subarray(from, end));
      value = this.pruned.end();
      this.pruned = null;
    } else {
      const text = this.pending.length === 0 ? chunk.toString('utf8', from, end) : Buffer.concat([...this.pending, chunk.subarray(from, end)]).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
      // Its own message ("Unexpected token … in JSON at position 12") is of the entry, not the answer.
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new SyntaxError(`entry ${this.entries}: ${(err as Error).message}`);
      }
    }
    this.onEntry(value, this.entries++);
  }
}

/**
 * Roughly the memory the values a list keeps take in V8 (KEPT_COST, the table the pruned reader
 * counts by too), without recursion (depth costs no call stack): 24 bytes an object and 16 an
 * array, 8 a property or element, a string 16 plus its length, and a key's text once per list (V8
 * shares the names of properties: 100,000 stage rows of the same 22 fields hold them once).
 */
export class KeptMemory {
  bytes = 0;
  private readonly keys = new Set<string>();

  add(value: unknown): number {
    let size = 0;
    const todo: unknown[] = [value];
    while (todo.length > 0) {
      const v = todo.pop();
      if (typeof v === 'string') size += KEPT_COST.string + v.length;
      else if (Array.isArray(v)) {
        size += KEPT_COST.array + KEPT_COST.slot * v.length;
        for (const x of v) todo.push(x);
      } else if (typeof v === 'object' && v !== null) {
        size += KEPT_COST.object;
        for (const [k, x] of Object.entries(v)) {
          size += KEPT_COST.slot;
          if (!this.keys.has(k)) {
            this.keys.add(k);
            size += KEPT_COST.key + k.length;
          }
          todo.push(x);
        }
      }
    }
    // A number, boolean or null lives in its property's or element's slot (a top-level one: one slot).
    if (typeof value !== 'object' && typeof value !== 'string') size += KEPT_COST.slot;
    this.bytes += size;
    return size;
  }
}
