/**
 * Fuzz target for collector configs (spark-optimizer.yaml, src/collectors/config.ts): real-shaped
 * configs of every source type, edited line by line (values, keys, indentation, order), as bytes
 * (BOMs, invalid UTF-8), and scaled to thousands of sources. Each text goes through what the CLI
 * does (parseConfig, then jobsFor for each source), what the editor does (analyzeConfig), and
 * `validate` on a folder where it sits beside a good config and a good log.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { analyzeConfig } from '../../src/analysis/configAnalyzer';
import { parseConfig, type ParsedConfig } from '../../src/collectors/config';
import { jobsFor } from '../../src/collectors/registry';
import { collectCommand } from '../../src/cli/collectCommand';
import { validateCommand } from '../../src/cli/validateCommand';
import type { Finding } from '../../src/analysis/findings';
import { DEFAULT_LIMITS, INTERNAL_ERROR, basicViolations, measure, normalized, type Limits, type Target, type Violation } from './harness';
import { RAW_NUMBERS, byteEditArb, editBytes, hostileString, type ByteEdit } from './mutate';
import { fileBytes, makeUnit } from './seeds';

export const CONFIG_PROPERTIES = {
  'config/no-uncaught': 'parseConfig, analyzeConfig, jobsFor and collect --config never throw (jobsFor may refuse a source with an Error naming it)',
  'config/bounded': 'parsing, checking and (scaled configs of local sources) collecting within the time and memory limits; time grows at most linearly with the number of sources',
  'config/error-lines': 'every error parseConfig gives carries a line inside the text (the CLI prints file:line)',
  'config/agree': 'the editor (analyzeConfig) shows an error exactly when the CLI (parseConfig) refuses the config',
  'config/secrets': 'no `${env:…}` reference reaches a source as a literal credential: it is resolved or refused',
  'config/no-internal-error': 'no finding is a JavaScript exception passed through',
  'config-validate/no-abort': 'validate finishes on a folder with the config beside a good config and a good log, and checks them',
  'config-validate/good-kept': 'the good config and log have exactly their findings alone',
  'config-validate/no-internal-error': 'no finding or message is a JavaScript exception passed through',
} as const;

/** Environment variables the seeds refer to; set while the target runs. */
const ENV = { FUZZ_HS_PASSWORD: 'fuzz-password', FUZZ_DBX_TOKEN: 'fuzz-token', FUZZ_GCP_TOKEN: 'fuzz-gcp' };

/** Configs as people write them: the single form, a list of every source type, anchors and flow style. */
export const CONFIG_SEEDS: readonly string[] = [
  `# Nightly collection from the shared event-log folder.
collector:
  type: event_log
  path: ./logs
  recursive: true
  batch_size: 200
  since: 2024-05-01
  user: etl
`,
  `sources:
  - name: local-logs
    type: event_log
    path: [./logs, ./more-logs]
    concurrency: 2
    zstd_max_window_mb: 256
  - name: prod-history
    type: history_server
    history_server_url: http://127.0.0.1:18080
    mode: eventlog
    username: spark
    password: \${env:FUZZ_HS_PASSWORD}
    headers:
      X-Team: data
    timeout: 45
    max_apps: 500
    status: all
  - name: emr-prod
    type: emr
    region: eu-west-1
    cluster_ids: [j-ABC, j-DEF]
    cluster_states: [RUNNING, TERMINATED]
    cloudwatch: false
    event_log_dir: s3://bucket/spark-logs
  - name: dbx
    type: databricks
    host: https://dbc-1234.cloud.databricks.com
    token: \${env:FUZZ_DBX_TOKEN}
    event_log_dir: dbfs:/cluster-logs
  - name: gcp
    type: dataproc
    project_id: my-project
    region: europe-west1
    access_token: \${env:FUZZ_GCP_TOKEN}
    labels: {team: data, env: prod}
    job_state: non_active
`,
  `sources:
  - name: a
    type: event_log
    path: &logs ./logs
    since: "2024-05-01T12:00:00Z"
  - name: b
    type: event_log
    path: *logs
    recursive: false
  - {name: hs, type: history_server, history_server_url: "https://127.0.0.1:18443", token: "\${env:FUZZ_DBX_TOKEN}", insecure_skip_verify: true, concurrency: 8}
`,
];

/** YAML value texts beyond numbers and strings: tags, aliases, flow collections, special floats. */
const YAML_VALUES = [
  '~', 'null', 'true', 'yes', '[]', '{}', '[a, b]', '{a: 1}', '*nope', '&a x', '!!binary aGk=', '!!int "12"', '!custom x', '.inf', '-.inf', '.nan', '0x1F', '0o17', '1_000',
  '"${env:}"', '"${env:FUZZ_UNSET_VAR}"', '${env:FUZZ_HS_PASSWORD}', '"${env:1BAD}"', '"http://"', '"https://127.0.0.1:0"', '"file:///etc/passwd"', '"ftp://127.0.0.1/x"',
  "'single ''quoted'''", '"\\u0000"', '"\\ud800"', '!!timestamp 2001-12-14', '2024-13-45', '"2024-05-01T25:00:00Z"', '"+275760-09-13"', '- a', ': x', '"a\\nb"', '|', '>-', '@x', '`x`', '%x',
] as const;

export type YamlValue =
  | { t: 'num'; i: number }
  | { t: 'str'; kind: Parameters<typeof hostileString>[0]; n: number }
  | { t: 'yaml'; i: number }
  /** Nested flow sequences or maps, or block maps, `depth` deep (issue #13 item 5, for YAML). */
  | { t: 'deep'; depth: number; kind: 'seq' | 'map' | 'block' };

const yamlValueArb: fc.Arbitrary<YamlValue> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('num' as const), i: fc.nat({ max: RAW_NUMBERS.length - 1 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('str' as const), kind: fc.constantFrom('empty' as const, 'long' as const, 'nul' as const, 'surrogate' as const, 'bom' as const, 'digits' as const, 'number-word' as const, 'date' as const, 'rtl' as const), n: fc.integer({ min: 1, max: 100_000 }) }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('yaml' as const), i: fc.nat({ max: YAML_VALUES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('deep' as const), depth: fc.constantFrom(64, 1000, 5000, 20_000), kind: fc.constantFrom('seq' as const, 'map' as const, 'block' as const) }) },
);

function yamlValue(v: YamlValue, indent: number): string {
  switch (v.t) {
    case 'num':
      return RAW_NUMBERS[v.i % RAW_NUMBERS.length]!;
    case 'str':
      return JSON.stringify(hostileString(v.kind, v.n));
    case 'yaml':
      return YAML_VALUES[v.i % YAML_VALUES.length]!;
    case 'deep':
      if (v.kind === 'seq') return `${'['.repeat(v.depth)}${']'.repeat(v.depth)}`;
      if (v.kind === 'map') return `${'{a: '.repeat(v.depth)}1${'}'.repeat(v.depth)}`;
      // Block maps, each level indented one more; capped so the text stays a few MB.
      return Array.from({ length: Math.min(v.depth, 2000) }, (_, i) => `\n${' '.repeat(indent + 2 + i)}k${i}:`).join('') + ' 1';
  }
}

/** Keys a source may have (and near misses of them). */
const KEYS = ['type', 'name', 'path', 'recursive', 'batch_size', 'concurrency', 'since', 'user', 'zstd_max_window_mb', 'history_server_url', 'mode', 'password', 'token', 'headers', 'timeout', 'max_apps', 'status', 'Type', 'paths', 'batchSize', 'collector', 'sources', '<<', '? complex', '"quoted key"', '', 'x'.repeat(300)];

/** Texts appended at the end: another document, a duplicate top-level key, an alias bomb, an undefined alias. */
const APPENDS = [
  '---\ncollector:\n  type: event_log\n  path: ./other\n',
  'collector:\n  type: event_log\n  path: ./again\n',
  `lol0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `lol${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`).join('\n')}\n`,
  'extra: *undefined_alias\n',
  'sources: []\n',
  '...\n',
  '%YAML 1.1\n---\n',
  '\t\n',
];

export type ConfigEdit =
  | { op: 'value'; line: number; value: YamlValue }
  | { op: 'key'; line: number; key: number }
  | { op: 'dup' | 'del' | 'blank'; line: number }
  | { op: 'swap' | 'move'; line: number; other: number }
  | { op: 'indent'; line: number; by: number }
  | { op: 'cut'; at: number }
  | { op: 'bom' | 'crlf' | 'tabs' }
  | { op: 'append'; text: number }
  /** The source list grown to `sources` entries (issue #13 item 9), with unique or repeated names. */
  | { op: 'scale'; sources: number; sameName: boolean };

export interface ConfigCase {
  seed: number;
  edits: ConfigEdit[];
  bytes: ByteEdit[];
}

const KEY_LINE = /^(\s*(?:- )?)([^:#\s][^:#]*?):(\s*)(.*)$/;

export function applyEdits(seed: string, edits: readonly ConfigEdit[]): { text: string; sources: number } {
  let lines = seed.replace(/\n$/, '').split('\n');
  let sources = (seed.match(/^\s*- (\{)?name:/gm) ?? []).length || 1;
  let end = '\n';
  let prefix = '';
  for (const e of edits) {
    const n = lines.length;
    const at = (i: number): number => i % Math.max(1, n);
    switch (e.op) {
      case 'value': {
        const keyed = lines.map((l, i) => (KEY_LINE.test(l) ? i : -1)).filter((i) => i >= 0);
        if (keyed.length === 0) break;
        const i = keyed[e.line % keyed.length]!;
        const m = KEY_LINE.exec(lines[i]!)!;
        lines[i] = `${m[1]}${m[2]}: ${yamlValue(e.value, m[1]!.length)}`;
        break;
      }
      case 'key': {
        const i = at(e.line);
        const m = KEY_LINE.exec(lines[i] ?? '');
        if (m) lines[i] = `${m[1]}${KEYS[e.key % KEYS.length]}:${m[3]}${m[4]}`;
        break;
      }
      case 'dup':
        lines.splice(at(e.line), 0, lines[at(e.line)] ?? '');
        break;
      case 'del':
        lines.splice(at(e.line), 1);
        break;
      case 'blank':
        lines.splice(at(e.line), 0, '');
        break;
      case 'swap': {
        const [a, b] = [at(e.line), at(e.other)];
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        break;
      }
      case 'move': {
        const [moved] = lines.splice(at(e.line), 1);
        lines.splice(at(e.other), 0, moved ?? '');
        break;
      }
      case 'indent': {
        const i = at(e.line);
        const by = (e.by % 7) - 2;
        lines[i] = by >= 0 ? ' '.repeat(by) + (lines[i] ?? '') : (lines[i] ?? '').replace(new RegExp(`^ {0,${-by}}`), '');
        break;
      }
      case 'cut': {
        const text = lines.join('\n');
        lines = text.slice(0, e.at % (text.length + 1)).split('\n');
        end = '';
        break;
      }
      case 'bom':
        prefix = '\ufeff';
        break;
      case 'crlf':
        end = '\r\n';
        lines = lines.map((l) => `${l}\r`);
        break;
      case 'tabs':
        lines = lines.map((l) => l.replace(/^ {2}/, '\t'));
        break;
      case 'append':
        lines.push(...APPENDS[e.text % APPENDS.length]!.replace(/\n$/, '').split('\n'));
        break;
      case 'scale': {
        const entry = (i: number): string => `  - name: ${e.sameName ? 'same' : `source-${i}`}\n    type: event_log\n    path: ./logs/${i}\n    batch_size: ${1 + (i % 500)}`;
        lines = ['sources:', ...Array.from({ length: e.sources }, (_, i) => entry(i))].join('\n').split('\n');
        sources = e.sources;
        break;
      }
    }
  }
  return { text: prefix + lines.join('\n') + end, sources };
}

const configEditArb = (maxSources: number): fc.Arbitrary<ConfigEdit> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('value' as const), line: fc.nat(), value: yamlValueArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('key' as const), line: fc.nat(), key: fc.nat({ max: KEYS.length - 1 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('dup' as const, 'del' as const, 'blank' as const), line: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('swap' as const, 'move' as const), line: fc.nat(), other: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('indent' as const), line: fc.nat(), by: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('bom' as const, 'crlf' as const, 'tabs' as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('append' as const), text: fc.nat({ max: APPENDS.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('scale' as const), sources: fc.integer({ min: 1, max: maxSources }), sameName: fc.boolean() }) },
  );

/** The credential fields of a job's options: a `${env:…}` here would be sent to a server as the secret itself. */
function credentials(options: Record<string, unknown>): string[] {
  const auth = options.auth as { password?: unknown; token?: unknown } | undefined;
  return [auth?.password, auth?.token, options.token, options.accessToken, options.password].filter((v): v is string => typeof v === 'string');
}

function lineCount(text: string): number {
  return text.split(/\r\n|\r|\n/).length;
}

/** Scaled configs up to this many sources are collected too (a slow collect goes on after its timeout). */
const MAX_COLLECTED_SOURCES = 5000;

export interface ConfigTargetOptions {
  root: string;
  limits?: Limits;
  /** Most sources a scaled config has (issue #13 item 9 went to 100,000). */
  maxSources?: number;
  /** Allowed time per source beyond the case limit, in ms (the linear bound). */
  msPerSource?: number;
}

export function configTarget(opts: ConfigTargetOptions): Target<ConfigCase> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const msPerSource = opts.msPerSource ?? 1;
  const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, ENV);
  const good = makeUnit('spark3.5-rolling', 'zstd', 'app-good-config', 3);
  const goodBytes = good.files.map(fileBytes);
  let n = 0;
  let baseline: string[] | null = null;

  const writeGood = (dir: string): void => {
    good.files.forEach((f, i) => {
      mkdirSync(path.dirname(path.join(dir, f.rel)), { recursive: true });
      writeFileSync(path.join(dir, f.rel), goodBytes[i]!);
    });
    mkdirSync(path.join(dir, 'other'), { recursive: true });
    writeFileSync(path.join(dir, 'other', 'spark-optimizer.yaml'), CONFIG_SEEDS[1]!);
  };
  const validate = async (dir: string): Promise<{ lines: { file: string; message: string }[]; err: string[]; checked: number | null }> => {
    const out: string[] = [];
    const err: string[] = [];
    await validateCommand([dir, '--format', 'json'], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: dir });
    const checked = err.map((l) => /^(\d+) files checked/.exec(l)?.[1]).find((x) => x !== undefined);
    return { lines: out.map((l) => JSON.parse(l) as { file: string; message: string }), err, checked: checked === undefined ? null : Number(checked) };
  };
  const goodLines = (dir: string, lines: { file: string }[]): string[] =>
    lines.filter((l) => path.basename(l.file) !== 'spark-optimizer.yaml' || path.dirname(l.file) !== dir).map((l) => normalized(dir, l));

  return {
    name: 'config',
    properties: CONFIG_PROPERTIES,
    arbitrary: fc.record({
      seed: fc.nat({ max: CONFIG_SEEDS.length - 1 }),
      edits: fc.array(configEditArb(opts.maxSources ?? 300), { minLength: 1, maxLength: 3 }),
      bytes: fc.oneof({ weight: 4, arbitrary: fc.constant([] as ByteEdit[]) }, { weight: 1, arbitrary: fc.array(byteEditArb, { minLength: 1, maxLength: 2 }) }),
    }),
    run: async (c) => {
      const out: Violation[] = [];
      const dir = path.join(opts.root, `config-${n++}`);
      mkdirSync(dir, { recursive: true });
      try {
        const { text: edited, sources } = applyEdits(CONFIG_SEEDS[c.seed % CONFIG_SEEDS.length]!, c.edits);
        const bytes = editBytes(Buffer.from(edited), c.bytes);
        // What readFile(…, 'utf8') gives the CLI and validate: invalid bytes become U+FFFD.
        const text = bytes.toString('utf8');
        const bound: Limits = { ...limits, caseMs: limits.caseMs + msPerSource * sources };

        const parsed = await measure(() => Promise.resolve(parseConfig(text, dir)), bound.caseMs);
        out.push(...basicViolations('config', 'parseConfig', parsed, bound));
        const analyzed = await measure(() => Promise.resolve(analyzeConfig(text, { baseDir: dir, exists: existsSync })), bound.caseMs);
        out.push(...basicViolations('config', 'analyzeConfig', analyzed, bound));
        if (parsed.value) out.push(...checkParsed(text, parsed.value, analyzed.value ?? null));

        if (baseline === null) {
          const base = path.join(opts.root, `config-baseline`);
          writeGood(base);
          baseline = goodLines(base, (await validate(base)).lines);
          rmSync(base, { recursive: true, force: true });
        }
        writeGood(dir);
        const file = path.join(dir, 'spark-optimizer.yaml');
        writeFileSync(file, bytes);
        // A scaled config of local event-log sources is also collected (nothing here talks to a
        // network): one save per source made 3,000 sources take 13.5 s (issue #13 item 9).
        const scaled = c.edits.some((e) => e.op === 'scale');
        const local = parsed.value !== undefined && parsed.value.errors.length === 0 && parsed.value.sources.every((s) => s.type === 'event_log');
        if (scaled && local && sources <= MAX_COLLECTED_SOURCES) {
          const io = { out: (): void => undefined, err: (): void => undefined, isTTY: false, cwd: dir };
          const collected = await measure(() => collectCommand(['--config', file, '--db', path.join(dir, 'jobs.db')], io), bound.caseMs);
          out.push(...basicViolations('config', 'collect --config', collected, bound));
        }
        const v = await measure(() => validate(dir), bound.caseMs);
        out.push(...basicViolations('config-validate', 'validate', v, bound).map((x) => (x.kind === 'config-validate/no-uncaught' ? { ...x, kind: 'config-validate/no-abort' } : x)));
        if (v.value) {
          const mine = goodLines(dir, v.value.lines);
          if (JSON.stringify(mine) !== JSON.stringify(baseline)) out.push({ kind: 'config-validate/good-kept', detail: `the good files' findings differ from alone: ${JSON.stringify(mine).slice(0, 300)}` });
          // The good rolling log's two parts and the good config at least.
          if (v.value.checked === null || v.value.checked < 3) out.push({ kind: 'config-validate/no-abort', detail: `validate says ${v.value.checked ?? 'no count of'} files checked, fewer than the 3 good ones` });
          for (const l of [...v.value.lines.map((x) => x.message), ...v.value.err]) if (INTERNAL_ERROR.test(l)) out.push({ kind: 'config-validate/no-internal-error', detail: l.slice(0, 300) });
        }
        return out;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close: () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      return Promise.resolve();
    },
  };
}

function checkParsed(text: string, parsed: ParsedConfig, findings: Finding[] | null): Violation[] {
  const out: Violation[] = [];
  const lines = lineCount(text);
  for (const e of parsed.errors) {
    if (e.line === undefined || !Number.isInteger(e.line) || e.line < 1 || e.line > lines) out.push({ kind: 'config/error-lines', detail: `error without a line in the text (line ${e.line}, ${lines} lines): ${e.message.slice(0, 200)}` });
  }
  if (findings !== null) {
    // A path that does not exist is an error for both, but parseConfig reads no disk: collect refuses it when it runs (exit 1).
    const editorErrors = findings.filter((f) => f.severity === 'error' && f.code !== 'path-not-found');
    if (parsed.errors.length > 0 && editorErrors.length === 0) out.push({ kind: 'config/agree', detail: `the CLI refuses (${parsed.errors[0]!.message.slice(0, 200)}) but the editor shows no error` });
    if (parsed.errors.length === 0 && editorErrors.length > 0) out.push({ kind: 'config/agree', detail: `the editor shows an error (${editorErrors[0]!.code}: ${editorErrors[0]!.message.slice(0, 200)}) but the CLI accepts` });
    for (const f of findings) if (INTERNAL_ERROR.test(f.message)) out.push({ kind: 'config/no-internal-error', detail: f.message.slice(0, 300) });
  }
  for (const s of parsed.sources) {
    let jobs;
    try {
      jobs = jobsFor(s);
    } catch (err) {
      // Refusing a source is fine (the CLI says "source X: …; skipped") when the message names it.
      const message = (err as Error).message ?? String(err);
      if (!message.includes(s.name) || INTERNAL_ERROR.test(message)) out.push({ kind: 'config/no-uncaught', detail: `jobsFor(${s.name}) threw: ${message.slice(0, 200)}` });
      continue;
    }
    for (const job of jobs) {
      for (const v of credentials(job.options as unknown as Record<string, unknown>)) {
        if (/\$\{env:/.test(v)) out.push({ kind: 'config/secrets', detail: `source ${s.name}: the credential ${JSON.stringify(v)} would be sent as written` });
      }
    }
  }
  return out;
}
