/**
 * Fuzz target for History Server answers: a fake server on 127.0.0.1 (test/support/historyServerFake.ts)
 * serves three good applications and one whose answers are mutated: values in its listing entry,
 * /environment, /allexecutors, /stages, /jobs (api mode) or its /logs zip (eventlog mode); the
 * bytes of an answer (BOM, invalid UTF-8, cut); and how it is sent (error statuses, a redirect,
 * a wrong Content-Length, bytes after the body, a connection closed or reset after the body).
 * Sometimes the whole listing is the mutated answer.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import fc from 'fast-check';
import { collectHistoryServerAll, type HistoryServerOptions } from '../../src/collectors/historyServer/collect';
import type { Gathered } from '../../src/collectors/contract';
import { sparkAppRecordSchema, type Problem } from '../../src/collectors/record';
import { eventLogText } from '../support/eventLogGenerator';
import { startFakeServer, syntheticListing, syntheticRoutes, type Route, type SyntheticApp } from '../support/historyServerFake';
import { zip } from '../support/zip';
import { DEFAULT_LIMITS, INTERNAL_ERROR, basicViolations, describe, firstDifference, measure, type Limits, type Target, type Violation } from './harness';
import { byteEditArb, editBytes, editJson, editLines, FOCUS_KEYS, jsonEditArb, lineEditArb, type ByteEdit, type JsonEdit, type LineEdit } from './mutate';

export const REST_PROPERTIES = {
  'rest/no-uncaught': 'the collection finishes: nothing thrown, no uncaught exception or unhandled rejection',
  'rest/bounded': 'each case within the time and memory limits',
  'rest/good-kept': 'the good applications give exactly their records, unless the listing itself was broken and an error names it',
  'rest/named': "every problem names a URL of the server; the mutated application gives a record or a problem",
  'rest/no-internal-error': 'no problem message is a JavaScript exception passed through',
  'rest/possible-values': 'every record passes the record schema',
  'rest/temp-cleaned': 'eventlog mode leaves no spark-opt-hs-* folder behind',
} as const;

const API_ENDPOINTS = ['listing-entry', 'environment', 'allexecutors', 'stages', 'jobs', 'listing-body'] as const;
const LOG_ENDPOINTS = ['logs-log', 'logs-zip', 'listing-entry', 'listing-body'] as const;
type Endpoint = (typeof API_ENDPOINTS)[number] | (typeof LOG_ENDPOINTS)[number];

export type Transport =
  | { kind: 'normal' }
  | { kind: 'status'; code: number }
  /**
   * The answer written on the socket by hand: a Content-Length that is right, short, long or
   * missing; `trailing` bytes after the body; then the connection ended, reset, or kept open.
   */
  | { kind: 'raw'; length: 'exact' | 'short' | 'long' | 'none'; trailing: number; end: 'end' | 'destroy' | 'keep'; close: boolean }
  /**
   * A well-formed answer with `Connection: close`: the server closes the connection after the body
   * (issue #13 item 1); `all`: every application's /logs answer does so, not only the mutated one's.
   */
  | { kind: 'close'; all: boolean };

export interface RestCase {
  mode: 'api' | 'eventlog';
  endpoint: number;
  json: JsonEdit[];
  /** For `logs-log`: edits of the event log inside the zip. */
  log: LineEdit[];
  /**
   * MB of incompressible padding (an unknown event) in every eventlog-mode log: big bodies are what
   * let the server's FIN arrive while undici's parser is paused by the disk (issue #13 item 1).
   */
  pad: number;
  bytes: ByteEdit[];
  transport: Transport;
}

const STATUSES = [500, 503, 404, 429, 400, 302, 204, 201] as const;

const transportArb: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('normal' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), code: fc.constantFrom(...STATUSES) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      length: fc.constantFrom('exact' as const, 'short' as const, 'long' as const, 'none' as const),
      trailing: fc.constantFrom(0, 0, 1, 17),
      end: fc.constantFrom('end' as const, 'destroy' as const, 'keep' as const),
      close: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), all: fc.boolean() }) },
);

const TARGET_ID = 'app-fuzz-target';

/** An attempt's path under /api/v1/. */
const base = (a: SyntheticApp): string => `applications/${a.id}${a.attemptId !== undefined ? `/${a.attemptId}` : ''}`;
const START = Date.UTC(2024, 5, 1);

/** Three good applications of different sizes and one to mutate, with REST answers in Spark 3.x's fields. */
function apps(): { good: SyntheticApp[]; target: SyntheticApp } {
  const stage = (id: number, extra: Partial<SyntheticApp['stages'][number]> = {}): SyntheticApp['stages'][number] => ({ id, status: 'COMPLETE', complete: 8, cpuNs: 4e9 + id, input: 1e8, output: 1e6, shuffleRead: 5e7, shuffleWrite: 5e7, ...extra });
  const good: SyntheticApp[] = [
    { id: 'app-good-1', name: 'Nightly', startMs: START, endMs: START + 600_000, properties: { 'spark.executor.cores': '4', 'spark.executor.memory': '8g', 'spark.app.submitTime': String(START - 1000) }, executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 4 }, { id: '2', cores: 4 }], stages: [stage(0), stage(1, { status: 'FAILED', failed: 2 })] },
    { id: 'app-good-2', attemptId: '1', name: 'Retry', startMs: START + 1e6, endMs: START + 2e6, sparkVersion: '2.0.2', executors: [{ id: '1', cores: 2 }], stages: [stage(0), stage(1), stage(2, { status: 'SKIPPED' })] },
    { id: 'app-good-3', name: 'Local', startMs: START + 3e6, endMs: START + 3.5e6, executors: [{ id: 'driver', cores: 8 }], stages: [] },
  ];
  const target: SyntheticApp = { id: TARGET_ID, name: 'Fuzzed', startMs: START + 5e6, endMs: START + 6e6, properties: { 'spark.executor.memory': '4g', 'spark.driver.memory': '2g', 'spark.executor.cores': '2', 'spark.app.submitTime': String(START + 5e6 - 500) }, executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 2 }, { id: '2', cores: 2 }], stages: [stage(0), stage(1), stage(2, { killed: 1 })] };
  return { good, target };
}

/** Sends `body` with `transport`'s faults. */
function send(res: ServerResponse, body: Buffer, transport: Transport, contentType: string, baseUrl: string): void {
  if (transport.kind === 'normal') {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(body);
    return;
  }
  if (transport.kind === 'close') {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length, connection: 'close' });
    res.end(body);
    return;
  }
  if (transport.kind === 'status') {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // A redirect points back at this server: nothing here may talk to another host.
    if (transport.code === 302) headers.location = `${baseUrl}/api/v1/applications`;
    res.writeHead(transport.code, headers);
    res.end(transport.code === 204 ? undefined : JSON.stringify({ message: `fuzz status ${transport.code}` }));
    return;
  }
  const socket = res.socket;
  if (!socket) return;
  const length = transport.length === 'exact' ? body.length : transport.length === 'short' ? Math.max(0, body.length - 7) : body.length + 64;
  const head = [`HTTP/1.1 200 OK`, `content-type: ${contentType}`, ...(transport.length === 'none' ? [] : [`content-length: ${length}`]), ...(transport.close || transport.length === 'none' ? ['connection: close'] : []), '', ''].join('\r\n');
  socket.write(Buffer.concat([Buffer.from(head), body, Buffer.alloc(transport.trailing, 0x7b)]));
  // Kept open only when the length is right: a missing or long one would wait for the client's timeout.
  if (transport.end === 'destroy') socket.destroy();
  else if (transport.end === 'end' || transport.length === 'none' || transport.length === 'long') socket.end();
  // Node's server never answers another request on this connection (this response never ended for
  // it): close it a little later, as a server drops an idle keep-alive connection, instead of
  // leaving the client's next request on it to its timeout.
  else setTimeout(() => socket.destroy(), 100).unref();
}

export interface RestTargetOptions {
  root: string;
  limits?: Limits;
}

export function restTarget(opts: RestTargetOptions): Target<RestCase> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { good, target } = apps();
  const all = [...good, target];
  const logs = new Map(all.map((a, i) => [a.id, eventLogText({ appId: a.id, appName: a.name, startMs: a.startMs, stages: 2, tasksPerStage: 4, seed: 20 + i }).text]));
  const paddings = new Map<number, string>();
  const padded = (id: string, mb: number): string => {
    if (mb === 0) return logs.get(id)!;
    let pad = paddings.get(mb);
    if (pad === undefined) {
      // Deterministic and incompressible enough that the zip stays about as large.
      let x = 0x9e3779b9;
      const bytes = Buffer.alloc(Math.floor((mb << 20) * 0.75));
      for (let i = 0; i < bytes.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        bytes[i] = x & 0xff;
      }
      pad = `{"Event":"org.example.Padding","Data":"${bytes.toString('base64')}"}\n`;
      paddings.set(mb, pad);
    }
    return logs.get(id)! + pad;
  };
  const goodZips = new Map<string, Buffer>();
  const zipOf = async (id: string, mb: number): Promise<Buffer> => {
    const key = `${id}:${mb}`;
    let z = goodZips.get(key);
    if (z === undefined) {
      z = await zip({ [id]: Buffer.from(padded(id, mb)) });
      goodZips.set(key, z);
    }
    return z;
  };
  const baselines = new Map<string, Map<string, string>>();
  let n = 0;

  const options = (url: string, mode: RestCase['mode']): HistoryServerOptions => ({ url, mode, source: 'fuzz-hs', concurrency: 4, timeoutMs: 1500, maxAttempts: 2, backoffMs: 5, maxDelayMs: 50 });
  const normalizedRecords = (url: string, got: Gathered): Map<string, string> => new Map(got.apps.map((a) => [a.record.app_id, JSON.stringify({ record: a.record, problems: a.problems }).split(url).join('<server>')]));

  /** The routes of a case: every answer as it should be, then the mutated one replaced. */
  async function routes(c: RestCase, baseUrl: () => string): Promise<Record<string, Route>> {
    const r: Record<string, Route> = c.mode === 'api' ? syntheticRoutes(all) : {};
    const listing = syntheticListing(all);
    r.applications = { json: listing };
    if (c.mode === 'eventlog') {
      const closing = c.transport.kind === 'close' && c.transport.all;
      for (const a of all) {
        const bytes = await zipOf(a.id, c.pad);
        r[`${base(a)}/logs`] = (_req, res) => send(res, bytes, closing ? c.transport : { kind: 'normal' }, 'application/octet-stream', baseUrl());
      }
    }
    if (isBaseline(c)) return r;
    const endpoint: Endpoint = c.mode === 'api' ? API_ENDPOINTS[c.endpoint % API_ENDPOINTS.length]! : LOG_ENDPOINTS[c.endpoint % LOG_ENDPOINTS.length]!;
    let key: string;
    let body: Buffer;
    let type = 'application/json';
    switch (endpoint) {
      case 'listing-entry': {
        // Only the target's entry changes; the others stay byte for byte.
        key = 'applications';
        const entries = listing.map((e) => JSON.stringify(e));
        const i = all.indexOf(target);
        entries[i] = c.json.reduce((text, edit) => editJson(text, edit, FOCUS_KEYS), entries[i]!);
        // Byte edits and transport faults would break every entry: those are listing-body's.
        r[key] = { text: `[${entries.join(',')}]` };
        return r;
      }
      case 'listing-body':
        // The whole listing's bytes and transport; value edits are listing-entry's (they would change the good apps).
        key = 'applications';
        body = editBytes(Buffer.from(JSON.stringify(listing)), c.bytes);
        break;
      case 'logs-log':
      case 'logs-zip': {
        key = `applications/${TARGET_ID}/logs`;
        type = 'application/octet-stream';
        const text = padded(TARGET_ID, c.pad);
        const log = endpoint === 'logs-log' && c.log.length > 0 ? editLines(text, c.log) : Buffer.from(text);
        const zipped = await zip({ [TARGET_ID]: endpoint === 'logs-log' ? editBytes(log, c.bytes) : log });
        body = endpoint === 'logs-zip' ? editBytes(zipped, c.bytes) : zipped;
        break;
      }
      default: {
        key = `applications/${TARGET_ID}/${endpoint}`;
        const answer = r[key] as { json: unknown };
        body = editBytes(Buffer.from(c.json.reduce((text, edit) => editJson(text, edit, FOCUS_KEYS), JSON.stringify(answer.json))), c.bytes);
      }
    }
    r[key] = (_req, res) => send(res, body, c.transport, type, baseUrl());
    return r;
  }

  async function runOnce(c: RestCase): Promise<{ url: string; m: Awaited<ReturnType<typeof measure<Gathered>>>; temp: string }> {
    let url = '';
    const server = await startFakeServer(await routes(c, () => url));
    url = server.url;
    // The eventlog mode's temporary folders go to TMPDIR: a folder of the case's own, checked after.
    const temp = path.join(opts.root, `rest-tmp-${n++}`);
    mkdirSync(temp, { recursive: true });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    try {
      const m = await measure(() => collectHistoryServerAll(options(url, c.mode)), limits.caseMs);
      return { url, m, temp };
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await server.close();
    }
  }

  async function baseline(mode: RestCase['mode']): Promise<Map<string, string>> {
    const known = baselines.get(mode);
    if (known) return known;
    const { url, m, temp } = await runOnce({ mode, endpoint: -1, json: [], log: [], pad: 0, bytes: [], transport: { kind: 'normal' } });
    rmSync(temp, { recursive: true, force: true });
    const b = m.value ? normalizedRecords(url, m.value) : new Map<string, string>();
    const missing = all.filter((a) => !b.has(a.id));
    if (missing.length > 0) throw new Error(`the History Server fuzz baseline (${mode}) lacks ${missing.map((a) => a.id).join(', ')}: ${m.error !== undefined ? describe(m.error) : JSON.stringify(m.value?.problems)}`);
    baselines.set(mode, b);
    return b;
  }

  return {
    name: 'rest',
    properties: REST_PROPERTIES,
    arbitrary: fc.record({
      mode: fc.constantFrom('api' as const, 'api' as const, 'eventlog' as const),
      endpoint: fc.nat({ max: 5 }),
      json: fc.array(jsonEditArb, { maxLength: 2 }),
      log: fc.array(lineEditArb, { maxLength: 2 }),
      pad: fc.constantFrom(0, 0, 2),
      bytes: fc.oneof({ weight: 3, arbitrary: fc.constant([] as ByteEdit[]) }, { weight: 1, arbitrary: fc.array(byteEditArb, { minLength: 1, maxLength: 2 }) }),
      transport: transportArb,
    }),
    run: async (c) => {
      const base = await baseline(c.mode);
      const { url, m, temp } = await runOnce(c);
      const out: Violation[] = basicViolations('rest', 'collect', m, limits);
      try {
        if (m.value) out.push(...check(c, url, m.value, base));
        // A run still going (timed out) may still remove its folders.
        const left = m.timedOut ? [] : readdirSync(temp).filter((f) => f.startsWith('spark-opt-hs-'));
        if (left.length > 0) out.push({ kind: 'rest/temp-cleaned', detail: `left behind: ${left.join(', ')}` });
      } finally {
        rmSync(temp, { recursive: true, force: true });
      }
      return out;
    },
    close: () => Promise.resolve(),
  };

  function check(c: RestCase, url: string, got: Gathered, base: Map<string, string>): Violation[] {
    const out: Violation[] = [];
    const now = normalizedRecords(url, got);
    const problems: Problem[] = [...got.problems, ...got.apps.flatMap((a) => a.problems)];
    const endpoint = c.mode === 'api' ? API_ENDPOINTS[c.endpoint % API_ENDPOINTS.length] : LOG_ENDPOINTS[c.endpoint % LOG_ENDPOINTS.length];
    // A broken listing may lose every application, as long as an error says the listing broke.
    const listingBroken = endpoint === 'listing-body' && problems.some((p) => p.severity === 'error' && (p.code === 'list-failed' || p.code === 'rest-shape'));
    // Byte edits of the whole listing may change a good entry's id or values: no good record to compare.
    const goodUntouched = !(endpoint === 'listing-body' && c.bytes.length > 0);
    for (const g of goodUntouched ? good : []) {
      if (now.get(g.id) === base.get(g.id) || listingBroken) continue;
      out.push({ kind: 'rest/good-kept', detail: now.has(g.id) ? `${g.id}: another record than without the fault: ${firstDifference(now.get(g.id)!, base.get(g.id) ?? '')}` : `${g.id} lost${got.problems[0] ? ` (${got.problems[0].message.slice(0, 200)})` : ''}` });
    }
    for (const p of problems) {
      if (!p.file?.startsWith(url)) out.push({ kind: 'rest/named', detail: `a problem names no URL of the server: ${JSON.stringify(p).slice(0, 300)}` });
      if (INTERNAL_ERROR.test(p.message)) out.push({ kind: 'rest/no-internal-error', detail: `${p.code}: ${p.message.slice(0, 300)}` });
    }
    if (!now.has(TARGET_ID) && !listingBroken && !problems.some((p) => p.severity !== 'info')) out.push({ kind: 'rest/named', detail: 'the mutated application gave neither a record nor a problem' });
    for (const a of got.apps) {
      const r = sparkAppRecordSchema.strict().safeParse(a.record);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const field = issue.path.join('.');
        out.push({ kind: 'rest/possible-values', detail: `${a.record.app_id}: ${field} = ${JSON.stringify((a.record as Record<string, unknown>)[field])} (${issue.message})` });
      }
    }
    return out;
  }
}

function isBaseline(c: RestCase): boolean {
  return c.endpoint < 0;
}
