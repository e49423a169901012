/**
 * A small JSON client for REST APIs (the Spark History Server, Databricks, Dataproc), on undici.
 *
 * - Every request has its own timeout (headers and body both count); a list's body (getList), which
 *   may be hundreds of MB, is timed by its gaps instead, within ten timeouts in all.
 * - Network errors, 408, 429 and 5xx are retried with exponential backoff and full jitter, honouring
 *   `Retry-After` (seconds or an HTTP date, capped), up to a bounded number of attempts in total. A
 *   list past its deadline is not: the same answer would take as long again.
 * - 401/403 become an `AuthError`, never retried: the caller reports it once and stops.
 * - Redirects are not followed (requests go only to the configured address, with its credentials):
 *   the error names the target.
 * - Credentials (basic, bearer, or a callback that returns a fresh bearer token) go only into the
 *   Authorization header; they are never part of an error message, and user:password written into
 *   the URL is moved out of it. An error answer's own `message` is kept (cut short, with any
 *   credential masked): "INVALID_PARAMETER_VALUE: page_token is invalid" is what a user needs.
 * - Bodies are parsed as JSON and validated with zod; a body that is not JSON or not the expected
 *   shape is a `ResponseError` (not retried: the server answered, the answer is bad). A body over
 *   `maxResponseBytes` is not read further (`ResponseTooLargeError`, not retried either); a large
 *   one is parsed as a stream that keeps only what the schema reads (jsonStream.ts). A list
 *   (getList) is read entry by entry, each cut to its schema as it comes (jsonList.ts): its size is
 *   not limited, what it keeps is.
 * - Bodies are consumed as they arrive, without backpressure on undici (exchange.ts says why).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import * as z from 'zod';
import { formatBytes } from '../../common/format';
import { maskSecrets } from '../maskSecrets';
import { exchange, SinkFailure, type Head, type Sink } from './exchange';
import { EntryTooLargeError, JsonListReader, KeptMemory, NotAListError } from './jsonList';
import { keepOf, KeptTooMuchError, loadTokenizer, PrunedJsonReader, type Keep } from './jsonStream';

export type HttpAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  /** A token source that may refresh (OAuth); asked before every request. */
  | { type: 'bearerProvider'; token: () => Promise<string> };

export interface JsonClientOptions {
  /** The API's base URL; request paths are relative to it. */
  baseUrl: string;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Attempts per request in total, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff delay in ms (default 500); doubles each retry, with full jitter. */
  backoffMs?: number;
  /** Longest single wait, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  auth?: HttpAuth;
  headers?: Record<string, string>;
  /** Values taken from the environment into `headers` (configKeys resolveHeaders): secrets, masked wherever an answer quotes them. */
  headerSecrets?: string[];
  /** PEM file of extra certificate authorities for https. */
  caFile?: string;
  /** Explicit opt-in: accept any TLS certificate. */
  insecureSkipVerify?: boolean;
  /** An http(s) proxy URL. */
  proxy?: string;
  /** Replaces the dispatcher built from the TLS and proxy options (tests). */
  dispatcher?: Dispatcher;
  /**
   * Largest answer read, in bytes (default 256 MiB). A larger one is not read further and not
   * retried: `ResponseTooLargeError`. Downloads take their own limit.
   */
  maxResponseBytes?: number;
}

/** Default for `maxResponseBytes`: far above any History Server, Databricks or Dataproc answer we ask for. */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Where a user raises the limit (MiB), named in the error as lines.ts and the codecs name theirs. */
export const MAX_RESPONSE_SETTING = 'max_response_mb (config) or --max-response-mb (CLI)';

/** The server refused our credentials (401) or our access (403). Stops the run. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    detail = '',
  ) {
    super(`${status === 401 ? '401 Unauthorized: wrong or missing credentials' : '403 Forbidden: these credentials may not read'} for ${path}${detail}`);
    this.name = 'AuthError';
  }
}

/** A request that failed after its retries, or with a status that is not retried (404, 400, …). */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The server answered 200 with a body that is not JSON, or not the shape we read. */
export class ResponseError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'ResponseError';
  }
}

/**
 * An answer larger than the limit: it was not read further, and it is not asked for again (the same
 * bytes would come again). Names the URL, the limit and the setting that raises it.
 */
export class ResponseTooLargeError extends ResponseError {
  constructor(
    path: string,
    readonly url: string,
    readonly limit: number,
    readonly setting = MAX_RESPONSE_SETTING,
    /** Set when what would be kept, not the answer's size, passed its share of the limit. */
    keptBudget?: number,
    /** A list read entry by entry (getList): the entries read when the kept values passed their share. */
    entries?: number,
    /** A list read entry by entry: the index of the one entry larger than the limit. */
    entry?: number,
  ) {
    const kept = `holds more than ${formatBytes(keptBudget ?? 0)} of values we keep (a quarter of the ${formatBytes(limit)} limit)`;
    const first = entries === 1 ? 'entry' : `${entries?.toLocaleString('en-US')} entries`;
    const what =
      entry !== undefined
        ? `'s entry ${entry.toLocaleString('en-US')} is larger than the ${formatBytes(limit)} limit`
        : keptBudget === undefined
          ? ` is larger than the ${formatBytes(limit)} limit`
          : entries === undefined
            ? ` ${kept}`
            : ` ${kept} in its first ${first}`;
    super(`${path}: the answer${what}, so it was not read (${url}); raise ${setting} to read it`, path);
    this.name = 'ResponseTooLargeError';
  }
}

const RETRY_STATUS = (s: number): boolean => s === 408 || s === 429 || s >= 500;

/**
 * Retry-After: delta-seconds or an HTTP date; null when absent or unreadable. Seconds with a
 * fraction (not in RFC 9110, but some servers send them) are seconds too: `Date.parse('1.5')` would
 * read them as a date in 2001 and wait nothing. A date must name its month or zone in letters.
 */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.ceil(Number(v) * 1000);
  if (!/[a-z]/i.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Error answers larger than this are not read for their message. */
const MAX_ERROR_BODY = 64 * 1024;

/** A body's text when it is at most `max` bytes; otherwise '' (and the rest is not read). */
function cappedText(max: number): Sink<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    data(chunk) {
      size += chunk.length;
      if (size > max) return false;
      chunks.push(chunk);
      return true;
    },
    end: () => (size > max ? '' : Buffer.concat(chunks).toString('utf8')),
  };
}

/** What a 3xx says, for the error: where it points (no query, no credentials) and why we stay. */
function redirectDetail(head: Head, from: string): string {
  const location = head.headers.location;
  const raw = Array.isArray(location) ? location[0] : location;
  if (raw === undefined || raw.trim() === '') return ' (a redirect without a Location; redirects are not followed)';
  let target: string;
  try {
    const url = new URL(raw.trim(), from);
    url.username = '';
    url.password = '';
    const query = url.search !== '';
    url.search = '';
    url.hash = '';
    target = `${url.toString()}${query ? '?…' : ''}`;
  } catch {
    target = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw);
  }
  return ` (a redirect to ${target}; not followed: requests, and their credentials, go only to the configured URL, so if the API moved, configure the new address)`;
}

/** `p`, or the signal's reason as soon as it aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A short, secret-free description of a network failure. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : '';
  return `${code ?? err.name}: ${err.message}${cause}`;
}

/** What errorInAnswer quotes at most: an answer's own words may be long (a stack trace). */
const ERROR_WORDS = 200;

/**
 * What an error answer's body says: Databricks' `{"error_code", "message"}`, Google's `{"error":
 * {"code", "message", "status"}}`, a bare `{"error": "…"}`, and, when the status already says it is
 * an error (`statusSaysError`), a bare `{"message"}` (AWS, the History Server). Undefined when the
 * body says no error (`"error": null` is none): so a listing answered 200 with an error body (a
 * proxy or gateway that answers errors as 200; a review) is told from an empty last page, which a
 * list schema whose fields are all optional would take it for. An error answer that says nothing
 * is 'an error with no message', or undefined when the status said it already. Masked by `mask`
 * before it is cut to ERROR_WORDS characters: a mask finds whole secrets only, and a secret cut in
 * two would show its first part.
 */
export function errorInAnswer(body: { error_code?: unknown; message?: unknown; error?: unknown }, mask: (text: string) => string, statusSaysError = false): string | undefined {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
  let parts: (string | undefined)[];
  if (body.error_code !== undefined && body.error_code !== null) parts = [text(body.error_code), text(body.message)];
  else if (typeof body.error === 'object' && body.error !== null) {
    const e = body.error as { code?: unknown; message?: unknown; status?: unknown };
    parts = [text(e.status) ?? text(e.code), text(e.message)];
  } else if (body.error !== undefined && body.error !== null) parts = [text(body.error) ?? JSON.stringify(body.error)];
  else if (statusSaysError) parts = [text(body.message)];
  else return undefined;
  const said = mask(parts.filter((p) => p !== undefined).join(': '));
  if (said === '') return statusSaysError ? undefined : 'an error with no message';
  return said.length > ERROR_WORDS ? `${said.slice(0, ERROR_WORDS)}…` : said;
}

/** The useful part of a 4xx answer's body (errorInAnswer), with every secret masked; '' when it says nothing. */
function errorDetail(text: string, secrets: readonly string[]): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  const said = typeof body === 'object' && body !== null ? errorInAnswer(body, (text) => maskSecrets(text, secrets), true) : undefined;
  return said === undefined ? '' : ` (${said})`;
}

export interface RequestInit {
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  body?: unknown;
  /**
   * For a large answer parsed as a stream: the schema whose fields are kept (default: the one that
   * validates). A list validated loosely, entry by entry later, names its entries' schema here.
   */
  shape?: z.ZodType;
}

/** How getList reads a list besides the request: `shape` (RequestInit) is then an entry's. */
export interface ListInit extends RequestInit {
  /** Takes each entry of the wrong shape (left out of the list) instead of failing the answer; called once the answer is whole, in order. */
  onBad?: (raw: unknown, index: number, error: z.ZodError) => void;
}

/** `unexpected answer shape at 3.stageId: …`: where in the answer (`at`: the path to the value checked) the first issue is. */
function shapeError(path: string, error: z.ZodError, at: (string | number)[]): ResponseError {
  const issue = error.issues[0];
  const where = [...at, ...(issue?.path ?? [])];
  return new ResponseError(`${path}: unexpected answer shape at ${where.length > 0 ? where.map(String).join('.') : '(top)'}: ${issue?.message ?? 'invalid'}`, path);
}

/** Answers up to this size are parsed whole with JSON.parse (fast); larger ones as a pruned stream. */
const WHOLE_PARSE_BYTES = 8 * 1024 * 1024;

/**
 * A streamed answer may keep at most this fraction of `maxResponseBytes` (64 MiB by default): what
 * is kept lives as JS strings and objects, about twice its JSON size, while what is skipped costs
 * nothing. An answer that is one 256 MiB string would otherwise take 440 MB to refuse.
 */
const KEPT_SHARE = 4;

/**
 * A list's body may take this many request timeouts in all (5 minutes by default), as long as no gap
 * between its pieces is longer than one: a 300 MB `/stages` then needs 1 MB/s, where the whole
 * request's 30 s needed 10 MB/s and a slower link lost the application after four downloads of it.
 */
const LIST_DEADLINE_TIMEOUTS = 10;

/** A JSON body as read: whole (small) or already pruned into a value (large), or where it went wrong. */
type JsonBody = { size: number } & ({ text: string } | { reader: PrunedJsonReader } | { malformed: string });

/** A list as getList read it: its entries, or an answer that was no list (or malformed), as getJson reads one. */
type ListBody<T> = { entries: T[]; bad: { raw: unknown; index: number }[] } | { whole: JsonBody };

/** Whether the environment names a proxy (HTTPS_PROXY, HTTP_PROXY, either case), as curl and most tools take it. */
function envProxy(): boolean {
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => (process.env[k] ?? '') !== '');
}

/** NO_PROXY, and this machine's own addresses always: a server on 127.0.0.1 is never reached through a proxy. */
function noProxy(): string {
  return [process.env.NO_PROXY ?? process.env.no_proxy ?? '', 'localhost', '127.0.0.1', '::1'].filter(Boolean).join(',');
}

/**
 * The dispatcher for the proxy the environment names, or undefined when it names none: every request
 * this project sends outside the AWS SDK goes through it (JsonClient, Databricks' OAuth token
 * exchange). `connect`: the TLS options, to the server through the proxy as well as directly.
 */
export function proxyFromEnv(connect: Record<string, unknown> = {}): Dispatcher | undefined {
  if (!envProxy()) return undefined;
  // undici 6 calls the agent experimental (UNDICI-EHPA) on stderr, once a process: noise in a cron
  // job's mail on every proxied run (a review). That one warning is held back; any other passes.
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const original = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  process.emitWarning = (warning: string | Error, ...rest: unknown[]): void => {
    const options = rest[0];
    if (typeof options === 'object' && options !== null && (options as { code?: unknown }).code === 'UNDICI-EHPA') return;
    emit(warning, ...rest);
  };
  try {
    // Its options go to the ProxyAgents it makes (requestTls: the TLS to the server through the proxy).
    return new EnvHttpProxyAgent({ noProxy: noProxy(), connect, requestTls: connect } as EnvHttpProxyAgent.Options);
  } finally {
    if (original) Object.defineProperty(process, 'emitWarning', original);
    else Reflect.deleteProperty(process, 'emitWarning');
  }
}

export class JsonClient {
  readonly apiBase: string;
  /** Bytes of response bodies read so far. */
  bytesRead = 0;
  private readonly headers: Record<string, string>;
  /** The names of the headers given in the options (secretsIn). */
  private readonly extraHeaders: ReadonlySet<string>;
  /** Secrets known besides the headers' values: those from the environment, and a URL's password as written (`p%40ss`). */
  private readonly knownSecrets: readonly string[];
  private readonly tokenProvider: (() => Promise<string>) | undefined;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly ownDispatcher: boolean;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxDelayMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: JsonClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the URL must be http:// or https://, got ${url.protocol}`);
    let auth = options.auth;
    if (url.username !== '' && auth === undefined) auth = { type: 'basic', username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    this.knownSecrets = [...(options.headerSecrets ?? []), ...(url.password !== '' ? [url.password] : [])];
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.apiBase = url.toString().replace(/\/+$/, '');
    this.headers = { accept: 'application/json', ...options.headers };
    this.extraHeaders = new Set(Object.keys(options.headers ?? {}));
    if (auth?.type === 'basic') this.headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    if (auth?.type === 'bearer') this.headers.authorization = `Bearer ${auth.token}`;
    this.tokenProvider = auth?.type === 'bearerProvider' ? auth.token : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.backoffMs = options.backoffMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownDispatcher = false;
    } else if (options.proxy || options.caFile || options.insecureSkipVerify || envProxy()) {
      const connect = { ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}), ...(options.insecureSkipVerify ? { rejectUnauthorized: false } : {}) };
      this.dispatcher = options.proxy
        ? new ProxyAgent({ uri: options.proxy, requestTls: connect })
        : (proxyFromEnv(connect) ?? new Agent({ connect }));
      this.ownDispatcher = true;
    } else {
      this.dispatcher = undefined;
      this.ownDispatcher = false;
    }
  }

  /** The full URL of an API path such as `applications?status=completed` (no credentials in it). */
  urlOf(path: string): string {
    return `${this.apiBase}/${path.replace(/^\/+/, '')}`;
  }

  /**
   * Sends `path` (relative to the base URL), parses JSON, validates with `schema`. GET unless `init`
   * says otherwise. An answer over 8 MiB is parsed as it arrives, keeping only what the schema (or
   * `init.shape`) reads; one over `maxResponseBytes` is not read further.
   */
  async getJson<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal, init: RequestInit = {}): Promise<z.infer<S>> {
    const tokenizer = await loadTokenizer();
    let contentType = '';
    const body = await this.send(path, signal, { ms: this.timeoutMs }, init, (head): Sink<JsonBody> => {
      contentType = String(head.headers['content-type'] ?? '');
      return this.jsonBody(path, keepOf(init.shape ?? schema), tokenizer, this.bodyCounter(path, head, this.maxResponseBytes));
    });
    return this.validated(path, schema, this.decoded(path, body, contentType));
  }

  /**
   * Sends `path`, whose answer is a JSON array, and gives the entries `entry` accepts, in order. The
   * answer is read entry by entry as it arrives (jsonList.ts), each validated (and so cut to the
   * schema's fields) at once, so that memory holds what the entries keep, not the answer: a History
   * Server `/stages` of 100,000 stage attempts is 300 MB of JSON and ~40 MB of kept rows.
   *
   * The answer's size is therefore not limited by `maxResponseBytes`; what its entries keep is, to a
   * quarter of it (KEPT_SHARE, counted as the memory the rows take: KeptMemory), and past that the
   * answer is dropped with a `ResponseTooLargeError` that names the URL, the entries read and the
   * setting: 64 MiB by default, ~160,000 stage attempts. Its time: the answer must start within the
   * request timeout, then no gap may be longer than it, and the whole may take ten of them
   * (LIST_DEADLINE_TIMEOUTS; past that it is not asked for again). One entry may be as large as an
   * answer (`maxResponseBytes`), no larger: past it the answer is dropped naming the entry. Whitespace before the `[` has the answer limit. An entry of the
   * wrong shape is a `ResponseError` naming its index, unless `onBad` takes it (it is then left out).
   * An answer that is not an array is read as getJson reads it (up to `maxResponseBytes`), and
   * refused for its shape.
   */
  async getList<S extends z.ZodType>(path: string, entry: S, signal?: AbortSignal, init: ListInit = {}): Promise<z.infer<S>[]> {
    const tokenizer = await loadTokenizer();
    const keep = keepOf(init.shape ?? entry);
    const budget = this.maxResponseBytes / KEPT_SHARE;
    let contentType = '';
    const body = await this.send(path, signal, { ms: this.timeoutMs, idle: true, deadlineMs: this.timeoutMs * LIST_DEADLINE_TIMEOUTS }, init, (head): Sink<ListBody<z.infer<S>>> => {
      contentType = String(head.headers['content-type'] ?? '');
      // Counted (bytesRead), not capped: a list is capped by what it keeps.
      const count = this.bodyCounter(path, head, Infinity);
      const entries: z.infer<S>[] = [];
      const bad: { raw: unknown; index: number }[] = [];
      const kept = new KeptMemory();
      let size = 0;
      let whole: Sink<JsonBody> | null = null;
      let malformed: string | null = null;
      const tooMuch = (read: number): ResponseTooLargeError => new ResponseTooLargeError(path, this.shownUrl(path), this.maxResponseBytes, MAX_RESPONSE_SETTING, budget, read);
      // One entry may be as large as any answer (maxResponseBytes), no larger: what the reader holds of
      // it is bounded without this (jsonStream.ts streams what it does not keep), but an entry larger
      // than a whole answer may be is no History Server's, and would be read until the deadline.
      const reader = new JsonListReader(
        keep,
        tokenizer,
        (raw, i) => {
          const got = entry.safeParse(raw);
          if (!got.success && init.onBad === undefined) throw shapeError(path, got.error, [i]);
          // A bad entry is held (and counted, with its place) until the answer is whole, so that a
          // retried request does not report it twice; its error is worked out again then, not held.
          kept.add(got.success ? got.data : raw);
          if (!got.success) kept.bytes += 64;
          if (kept.bytes > budget) throw tooMuch(i + 1);
          if (got.success) entries.push(got.data);
          else bad.push({ raw, index: i });
        },
        () => budget - kept.bytes,
        undefined,
        this.maxResponseBytes,
      );
      return {
        data: (chunk) => {
          size = count(chunk);
          if (whole !== null) return whole.data(chunk);
          try {
            reader.write(chunk);
            // Whitespace before the list is no entry: it has the limit of any answer.
            if (!reader.started && size > this.maxResponseBytes) throw new ResponseTooLargeError(path, this.shownUrl(path), this.maxResponseBytes);
          } catch (err) {
            if (err instanceof ResponseError) throw err;
            if (err instanceof KeptTooMuchError) throw tooMuch(reader.entries + 1);
            if (err instanceof EntryTooLargeError) throw new ResponseTooLargeError(path, this.shownUrl(path), this.maxResponseBytes, MAX_RESPONSE_SETTING, undefined, undefined, err.index);
            if (err instanceof NotAListError) {
              // Not a list: read as any answer (its whitespace before was nothing), for the error it gets.
              let wholeSize = 0;
              whole = this.jsonBody(path, keepOf(z.array(init.shape ?? entry)), tokenizer, (c) => {
                wholeSize += c.length;
                if (wholeSize > this.maxResponseBytes) throw new ResponseTooLargeError(path, this.shownUrl(path), this.maxResponseBytes);
                return wholeSize;
              });
              return whole.data(chunk);
            }
            // The rest cannot make it JSON: stop reading.
            malformed = (err as Error).message;
            return false;
          }
          return true;
        },
        end: () => {
          if (whole !== null) return { whole: whole.end() };
          if (malformed === null) {
            try {
              reader.end();
            } catch (err) {
              malformed = (err as Error).message;
            }
          }
          return malformed !== null ? { whole: { size, malformed } } : { entries, bad };
        },
      };
    });
    if ('entries' in body) {
      for (const b of body.bad) init.onBad?.(b.raw, b.index, entry.safeParse(b.raw).error!);
      return body.entries;
    }
    return this.validated(path, z.array(entry), this.decoded(path, body.whole, contentType));
  }

  /**
   * A JSON answer read into memory: whole up to WHOLE_PARSE_BYTES, then as a stream that keeps only
   * `keep` (a quarter of `maxResponseBytes` of it at most). `count` counts each chunk and throws past
   * the answer's limit; it returns the answer's size so far.
   */
  private jsonBody(path: string, keep: Keep, tokenizer: Awaited<ReturnType<typeof loadTokenizer>>, count: (chunk: Buffer) => number): Sink<JsonBody> {
    let size = 0;
    let chunks: Buffer[] = [];
    let reader: PrunedJsonReader | null = null;
    let malformed: string | null = null;
    return {
      data: (chunk) => {
        size = count(chunk);
        try {
          if (reader !== null) reader.write(chunk);
          else {
            chunks.push(chunk);
            if (size > WHOLE_PARSE_BYTES) {
              // What the schema reads, worked out only for the few answers big enough to stream.
              reader = new PrunedJsonReader(keep, tokenizer, this.maxResponseBytes / KEPT_SHARE);
              for (const c of chunks) reader.write(c);
              chunks = [];
            }
          }
        } catch (err) {
          if (err instanceof KeptTooMuchError) throw new ResponseTooLargeError(path, this.shownUrl(path), this.maxResponseBytes, MAX_RESPONSE_SETTING, err.budget);
          // The rest cannot make it JSON: stop reading.
          malformed = (err as Error).message;
          return false;
        }
        return true;
      },
      end: () => (malformed !== null ? { size, malformed } : reader !== null ? { size, reader } : { size, text: Buffer.concat(chunks).toString('utf8') }),
    };
  }

  /** The value of a JSON body as read, or a ResponseError saying why it has none. */
  private decoded(path: string, body: JsonBody, contentType: string): unknown {
    try {
      if ('malformed' in body) throw new Error(body.malformed);
      return 'text' in body ? JSON.parse(body.text) : body.reader.end();
    } catch (err) {
      // A 200 with a web page is a sign-in page or a proxy in the way, not a History Server's broken JSON.
      if (/html/i.test(contentType)) throw new ResponseError(`${path}: the server answered with a web page (${contentType.split(';')[0]!.trim()}), not JSON: a sign-in page or a proxy in front of the API? Check the URL and the credentials`, path);
      throw new ResponseError(`${path}: malformed JSON (${(err as Error).message}) in a ${body.size}-byte answer`, path);
    }
  }

  private validated<S extends z.ZodType>(path: string, schema: S, data: unknown): z.infer<S> {
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw shapeError(path, parsed.error, []);
    return parsed.data;
  }

  /** The URL of `path` as errors show it: no user info (urlOf), and no known secret should a path hold one. */
  private shownUrl(path: string): string {
    return maskSecrets(this.urlOf(path), this.knownSecrets);
  }

  /** Sends `path` with timeout and retries; the body as text (at most `maxResponseBytes`). */
  getText(path: string, signal?: AbortSignal, init: RequestInit = {}): Promise<string> {
    return this.send(path, signal, { ms: this.timeoutMs }, init, (head) => {
      const count = this.bodyCounter(path, head, this.maxResponseBytes);
      const chunks: Buffer[] = [];
      return {
        data: (chunk) => {
          count(chunk);
          chunks.push(chunk);
          return true;
        },
        end: () => Buffer.concat(chunks).toString('utf8'),
      };
    });
  }

  /**
   * GET `path` streamed into `file` (never held in memory), with the same retries, at most
   * `maxBytes` (default: no limit; `setting` is what the error tells the user to raise). It fails
   * when no data comes for ten times the per-request timeout, however long the whole transfer takes:
   * a cap on the whole made a large event log's zip (GBs at 10 MB/s) fail every attempt (a review).
   * Written with writeSync: a disk slower than the network holds the event loop, and TCP then slows
   * the server down.
   */
  download(path: string, file: string, signal?: AbortSignal, limit: { maxBytes?: number; setting?: string } = {}): Promise<number> {
    return this.send(path, signal, { ms: this.timeoutMs * 10, idle: true }, {}, (head) => {
      const count = this.bodyCounter(path, head, limit.maxBytes ?? Infinity, limit.setting);
      const fd = openSync(file, 'w');
      let bytes = 0;
      return {
        data: (chunk) => {
          bytes = count(chunk);
          for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
          return true;
        },
        end: () => bytes,
        release: () => closeSync(fd),
      };
    });
  }

  /**
   * What every 200 sink does with a chunk first: count it (in `bytesRead` too) and refuse the answer
   * once it passes `max`; returns the answer's bytes so far. An answer whose announced length is
   * already over `max` is refused here, before anything of it is read.
   */
  private bodyCounter(path: string, head: Head, max: number, setting?: string): (chunk: Buffer) => number {
    const tooLarge = (): ResponseTooLargeError => new ResponseTooLargeError(path, this.shownUrl(path), max, setting);
    const announced = Number(head.headers['content-length']);
    if (Number.isFinite(announced) && announced > max) throw tooLarge();
    let size = 0;
    return (chunk) => {
      size += chunk.length;
      this.bytesRead += chunk.length;
      if (size > max) throw tooLarge();
      return size;
    };
  }

  /** `timeout.idle`: the timeout is of no data (restarted by each chunk of a 200 answer), not of the whole request. */
  private async send<T>(path: string, signal: AbortSignal | undefined, timeout: { ms: number; idle?: boolean; deadlineMs?: number }, init: RequestInit, on200: (head: Head) => Sink<T>): Promise<T> {
    const timeoutMs = timeout.ms;
    const idleText = `no data for ${timeoutMs} ms`;
    const waitText = `timed out after ${timeoutMs} ms`;
    const url = new URL(this.urlOf(path));
    const method = init.method ?? 'GET';
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    let lastError = '';
    let lastStatus: number | null = null;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      const headers: Record<string, string> = { ...this.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
      // A token exchange can be slow or retried: it must not outlive a cancelled run.
      if (this.tokenProvider) headers.authorization = `Bearer ${await abortable(this.tokenProvider(), signal)}`;
      // One controller per request, released when it ends (AbortSignal.any on a long-lived run signal
      // keeps every request's signal reachable until the run ends).
      const perRequest = new AbortController();
      let timedOut = false;
      // With a deadline (a list), the wait for the answer is timed as any request's, then its body by its gaps.
      let why = timeout.idle && timeout.deadlineMs === undefined ? idleText : waitText;
      const expire = (text?: string): void => {
        timedOut = true;
        if (text !== undefined) why = text;
        perRequest.abort(new Error(why));
      };
      let timer = setTimeout(expire, timeoutMs);
      let pastDeadline = false;
      const deadline =
        timeout.deadlineMs === undefined
          ? undefined
          : setTimeout(() => {
              pastDeadline = true;
              expire(`took longer than ${timeout.deadlineMs} ms in all`);
            }, timeout.deadlineMs);
      const sinkFor = (h: Head): Sink<T> => {
        const sink = on200(h);
        if (!timeout.idle) return sink;
        return {
          ...sink,
          data: (chunk) => {
            clearTimeout(timer);
            why = idleText;
            timer = setTimeout(expire, timeoutMs);
            return sink.data(chunk);
          },
        };
      };
      const onAbort = (): void => perRequest.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let waitHint: number | null = null;
      try {
        // A 4xx body says why (small JSON); a large one is not read. Other statuses are not read at all.
        const { head, result } = await exchange<T | string>({ url, method, headers, body, dispatcher: this.dispatcher, signal: perRequest.signal }, (h): Sink<T | string> =>
          h.status === 200 ? sinkFor(h) : cappedText(h.status >= 400 && h.status < 500 ? MAX_ERROR_BODY : 0),
        );
        if (head.status === 200) return result as T;
        // Masked: the header's value, and the token or password itself, in case the server echoes what it was sent.
        const detail = head.status >= 400 && head.status < 500 ? errorDetail(result as string, this.secretsIn(headers)) : head.status >= 300 && head.status < 400 ? redirectDetail(head, url.toString()) : '';
        if (head.status === 401 || head.status === 403) throw new AuthError(head.status, path, detail);
        lastStatus = head.status;
        lastError = `HTTP ${head.status}${detail}`;
        if (!RETRY_STATUS(head.status)) throw new HttpError(`${path}: HTTP ${head.status}${detail}`, path, head.status, attempt);
        waitHint = retryAfterMs(head.headers['retry-after']);
      } catch (err) {
        if (err instanceof AuthError || err instanceof HttpError) throw err;
        if (signal?.aborted) throw signal.reason as Error;
        // The answer itself failed (over the limit, a full disk): asking again would fail again.
        if (err instanceof SinkFailure) throw err.error;
        // The whole answer took too long (a list's deadline): asking again would download it again,
        // as slowly, four times over 20 minutes by default (ee4c916 meant to stop that).
        if (timedOut && pastDeadline) throw new HttpError(`${path}: ${why} (not asked for again: the answer would take as long)`, path, null, attempt);
        lastStatus = null;
        lastError = timedOut ? why : describeError(err);
      } finally {
        clearTimeout(timer);
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      }
      if (attempt === this.maxAttempts) break;
      const backoff = Math.random() * Math.min(this.maxDelayMs, this.backoffMs * 2 ** (attempt - 1));
      await sleep(Math.min(this.maxDelayMs, waitHint ?? backoff), signal);
    }
    throw new HttpError(`${path}: ${lastError} (gave up after ${this.maxAttempts} attempts)`, path, lastStatus, this.maxAttempts);
  }

  /**
   * Every form of the credentials a request carries: the Authorization value (however its name is
   * spelled) and what it encodes, the values of the extra headers a source was configured with
   * (History Server `headers:`, which exist to carry credentials: `X-Api-Key: ${env:…}`), each of a
   * Cookie header's values, every value a header took from the environment, and the URL's password as
   * written (maskSecrets adds its percent-encoded and decoded forms).
   */
  private secretsIn(headers: Record<string, string>): string[] {
    const found = Object.entries(headers).flatMap(([name, value]) => {
      if (name.toLowerCase() !== 'authorization' && !this.extraHeaders.has(name)) return [];
      // A Cookie header is many values (`JSESSIONID=…; theme=dark`): a server quotes one of them, not the header.
      if (name.toLowerCase() === 'cookie') return [value, ...value.split(';').map((c) => c.slice(c.indexOf('=') + 1).trim())];
      const token = /^\w+ (.+)$/.exec(value)?.[1];
      if (token === undefined) return [value];
      if (!/^Basic /i.test(value)) return [token];
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      return [token, decoded, decoded.slice(decoded.indexOf(':') + 1)];
    });
    // In any order: maskSecrets masks whatever stretch any of them covers.
    return [...this.knownSecrets, ...found];
  }

  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher?.close();
  }
}
