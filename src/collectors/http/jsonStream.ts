/**
 * Large JSON answers read as a token stream (stream-json's tokenizer), keeping only what the
 * answer's zod schema reads: for an object, the keys of its shape; for an array, each element pruned
 * the same way. A History Server stage list or environment that is mostly fields we never read
 * (stack traces in `details`, the classpath, system properties) then costs memory for the few
 * numbers we keep, not for the whole answer (issue 13: one 1 GB answer took 2.28 GB).
 *
 * The tokenizer has no recursion and the assembler keeps its own stack, so depth costs no call stack.
 */
import { StringDecoder } from 'node:string_decoder';
import * as z from 'zod';
import { KEPT_COST } from './keptCost';

/** What to keep of a value: all of it, an object's named keys, or an array's elements. */
export type Keep = { kind: 'all' } | { kind: 'object'; keys: ReadonlyMap<string, Keep> } | { kind: 'array'; element: Keep };

const ALL: Keep = { kind: 'all' };

/**
 * The parts of a value that `schema` reads. Objects that pass unknown keys through (`z.looseObject`,
 * a catchall), unions and anything else not an object or array are kept whole.
 */
export function keepOf(schema: z.ZodType): Keep {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  if (s instanceof z.ZodObject) {
    const catchall = (s.def as { catchall?: z.ZodType }).catchall;
    if (catchall !== undefined && !(catchall instanceof z.ZodNever)) return ALL;
    return { kind: 'object', keys: new Map(Object.entries(s.shape as Record<string, z.ZodType>).map(([k, v]) => [k, keepOf(v)])) };
  }
  if (s instanceof z.ZodArray) return { kind: 'array', element: keepOf(s.element as z.ZodType) };
  return ALL;
}

type Token = { name: string; value?: unknown };
type Tokenizer = (chunk: string | symbol) => { values?: Token[] } | symbol;
interface TokenizerModule {
  jsonParser: (options: Record<string, boolean>) => Tokenizer;
}
interface ChainDefs {
  none: symbol;
}

let loaded: Promise<{ make: () => Tokenizer; none: symbol }> | undefined;

/** stream-json is ESM only: loaded once, on the first answer that needs it. */
export function loadTokenizer(): Promise<{ make: () => Tokenizer; none: symbol }> {
  loaded ??= Promise.all([import('stream-json/core/parser.js') as Promise<unknown>, import('stream-chain/defs.js') as Promise<unknown>]).then(([p, d]) => {
    const { jsonParser } = p as TokenizerModule;
    // Strings, keys and numbers arrive in pieces, so one we do not keep is never held whole: packed,
    // one unkept key of 200 MB in a list entry held 269 MB of heap, 700 MB of it failed as
    // 'Invalid string length' (a review of 9b320fc).
    return { make: () => jsonParser({ packKeys: false, packNumbers: false, packStrings: false, streamKeys: true, streamNumbers: true, streamStrings: true }), none: (d as ChainDefs).none };
  });
  return loaded;
}

interface Frame {
  keep: Keep;
  /** null: a skipped value (only its depth is tracked). */
  value: Record<string, unknown> | unknown[] | null;
  /** The key the next value of this object belongs to, and whether it is kept. */
  key: string | null;
  keyKept: Keep | null;
  depth: number;
}

/** The longest key an object's Keep names: a longer key is not kept, and is not held past this. */
const longestKey = new WeakMap<ReadonlyMap<string, Keep>, number>();
function longestKeyOf(keys: ReadonlyMap<string, Keep>): number {
  let n = longestKey.get(keys);
  if (n === undefined) {
    n = Math.max(0, ...[...keys.keys()].map((k) => k.length));
    longestKey.set(keys, n);
  }
  return n;
}

/** Sets a property the way JSON.parse does: `__proto__` is an own property, not the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** What the reader kept passed its budget. */
export class KeptTooMuchError extends Error {
  constructor(readonly budget: number) {
    super(`more than ${budget} bytes of it would be kept`);
    this.name = 'KeptTooMuchError';
  }
}

/**
 * Builds the kept parts of one JSON value from bytes written in pieces. `write` throws on malformed
 * JSON (the tokenizer's message), and `KeptTooMuchError` once what is kept passes `budget`, counted
 * as it comes by KEPT_COST (as jsonList.ts KeptMemory counts a value, its containers' open frames
 * and a key's or number's characters while they are read besides); `end` returns the value.
 */
export class PrunedJsonReader {
  /** What is kept so far, by KEPT_COST: once the value is whole, what KeptMemory counts for it. */
  kept = 0;
  /** The property names kept so far, counted once (as KeptMemory counts them). */
  private readonly keys = new Set<string>();
  private readonly decoder = new StringDecoder('utf8');
  private readonly tokens: Tokenizer;
  private readonly stack: Frame[] = [];
  /** The string being built, when it is kept. */
  private text: string[] | null = null;
  private inString = false;
  /** A key being read in a kept object: its text while it may be kept (null once it cannot), and its length. */
  private keyText: string | null = null;
  private keyLength = 0;
  private inKey = false;
  /** Whether the key's pieces are counted as they come (an object kept whole keeps every key). */
  private keyCounted = false;
  /** The number being read, when it is kept. */
  private digits: string | null = null;
  private done = false;
  private result: unknown;

  private readonly none: symbol;

  constructor(
    private readonly keep: Keep,
    tokenizer: { make: () => Tokenizer; none: symbol },
    private readonly budget = Infinity,
  ) {
    this.tokens = tokenizer.make();
    this.none = tokenizer.none;
  }

  write(chunk: Buffer): void {
    this.feed(this.tokens(this.decoder.write(chunk)));
  }

  end(): unknown {
    const rest = this.decoder.end();
    if (rest !== '') this.feed(this.tokens(rest));
    this.feed(this.tokens(this.none));
    if (!this.done) throw new SyntaxError('Unexpected end of JSON input');
    return this.result;
  }

  private feed(out: { values?: Token[] } | symbol): void {
    if (typeof out === 'symbol' || out.values === undefined) return;
    for (const t of out.values) this.token(t);
  }

  /** Where the next value goes: what to keep of it, or null when it is skipped. */
  private slot(): Keep | null {
    const top = this.stack.at(-1);
    if (top === undefined) return this.keep;
    if (top.value === null) return null;
    if (Array.isArray(top.value)) return top.keep.kind === 'array' ? top.keep.element : ALL;
    return top.keyKept;
  }

  private count(bytes: number): void {
    this.kept += bytes;
    if (this.kept > this.budget) throw new KeptTooMuchError(this.budget);
  }

  private put(value: unknown): void {
    // A string was counted as it came (startString, stringChunk), a container when it opened: what
    // is left is the slot it takes in its parent (a number, boolean or null alone: one slot).
    const top = this.stack.at(-1);
    if (top === undefined) {
      if (typeof value !== 'object' && typeof value !== 'string') this.count(KEPT_COST.slot);
      this.result = value;
      this.done = true;
      return;
    }
    this.count(KEPT_COST.slot);
    if (top.value === null) return;
    if (Array.isArray(top.value)) top.value.push(value);
    else if (top.key !== null && top.keyKept !== null) setOwn(top.value, top.key, value);
  }

  private open(container: 'object' | 'array'): void {
    const top = this.stack.at(-1);
    if (top !== undefined && top.value === null) {
      top.depth++;
      return;
    }
    const keep = this.slot();
    if (keep === null) {
      this.stack.push({ keep: ALL, value: null, key: null, keyKept: null, depth: 0 });
      return;
    }
    // Counted as it opens, with its frame until it closes: `[[[[…` kept whole (a z.unknown value)
    // piles up frames before any closes.
    this.count((container === 'object' ? KEPT_COST.object : KEPT_COST.array) + KEPT_COST.openFrame);
    this.stack.push({ keep, value: container === 'object' ? {} : [], key: null, keyKept: null, depth: 0 });
  }

  private close(): void {
    const top = this.stack.at(-1);
    if (top === undefined) return;
    if (top.value === null && top.depth > 0) {
      top.depth--;
      return;
    }
    this.stack.pop();
    // A skipped value has nowhere to go (the top-level value is always kept).
    if (top.value === null) return;
    this.kept -= KEPT_COST.openFrame;
    this.put(top.value);
  }

  private scalar(value: unknown): void {
    if (this.slot() !== null) this.put(value);
  }

  /** A piece of a key: held while the key may be kept (counted as it comes when every key is), dropped once it cannot. */
  private keyPiece(piece: string): void {
    if (this.keyText === null) return;
    this.keyLength += piece.length;
    if (this.keyCounted) this.count(piece.length);
    else {
      const top = this.stack.at(-1)!;
      if (top.keep.kind === 'object' && this.keyLength > longestKeyOf(top.keep.keys)) {
        this.keyText = null;
        return;
      }
    }
    this.keyText += piece;
  }

  private token(t: Token): void {
    switch (t.name) {
      case 'startObject':
        this.open('object');
        return;
      case 'startArray':
        this.open('array');
        return;
      case 'endObject':
      case 'endArray':
        this.close();
        return;
      case 'startKey': {
        const top = this.stack.at(-1);
        this.inKey = true;
        this.keyLength = 0;
        this.keyCounted = top !== undefined && top.value !== null && top.keep.kind !== 'object';
        this.keyText = top === undefined || top.value === null ? null : '';
        return;
      }
      case 'endKey': {
        this.inKey = false;
        const top = this.stack.at(-1);
        const text = this.keyText;
        this.keyText = null;
        if (top === undefined || top.value === null) return;
        if (text === null) {
          // Longer than any key the schema names.
          top.key = null;
          top.keyKept = null;
          return;
        }
        top.key = text;
        top.keyKept = top.keep.kind === 'object' ? (top.keep.keys.get(text) ?? null) : ALL;
        // Its characters, counted while it was read when every key is kept, count once a reader.
        if (this.keyCounted) this.kept -= text.length;
        if (top.keyKept !== null && !this.keys.has(text)) {
          this.keys.add(text);
          this.count(KEPT_COST.key + text.length);
        }
        return;
      }
      case 'startNumber':
        this.digits = this.slot() === null ? null : '';
        return;
      case 'numberChunk':
        if (this.digits !== null) {
          this.count((t.value as string).length);
          this.digits += t.value as string;
        }
        return;
      case 'endNumber': {
        // Its characters were counted while it was read; a number kept lives in its slot.
        const digits = this.digits;
        this.digits = null;
        if (digits === null) this.scalar(undefined);
        else {
          this.kept -= digits.length;
          this.scalar(Number(digits));
        }
        return;
      }
      case 'startString':
        this.inString = true;
        this.text = this.slot() === null ? null : [];
        if (this.text !== null) this.count(KEPT_COST.string);
        return;
      case 'stringChunk':
        if (this.inKey) {
          this.keyPiece(t.value as string);
          return;
        }
        if (this.inString && this.text !== null) {
          // Counted as it grows: one huge kept string must not be held whole before it is refused.
          this.count((t.value as string).length);
          this.text.push(t.value as string);
        }
        return;
      case 'endString':
        this.inString = false;
        if (this.text === null) this.scalar(undefined);
        else this.scalar(this.text.join(''));
        this.text = null;
        return;
      case 'stringValue':
        if (this.slot() !== null) this.count(KEPT_COST.string + (t.value as string).length);
        this.scalar(t.value);
        return;
      case 'nullValue':
        this.scalar(null);
        return;
      case 'trueValue':
        this.scalar(true);
        return;
      case 'falseValue':
        this.scalar(false);
        return;
      default:
        return;
    }
  }
}
