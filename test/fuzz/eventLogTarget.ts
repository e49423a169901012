/**
 * Fuzz targets for event logs: a case is a folder with one or two good logs of other Spark versions
 * and layouts beside one mutated log (line edits before compression, byte edits after it, in any
 * codec), or beside a decompression bomb. The folder goes through the collector (`collectAll`, as
 * `collect` reads it) and through `validate` (validateCommand, in process), and each property below
 * is checked on what comes back.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { collectAll } from '../../src/collectors/eventlog/collect';
import { type CollectedApp, type Gathered } from '../../src/collectors/contract';
import { sparkAppRecordSchema, type Problem } from '../../src/collectors/record';
import { validateCommand } from '../../src/cli/validateCommand';
import { DEFAULT_LIMITS, INTERNAL_ERROR, basicViolations, firstDifference, measure, normalized, type Limits, type Target, type Violation } from './harness';
import { byteEditArb, editBytes, editLines, lineEditArb, onlyValueEdits, valueEditArb, type ByteEdit, type LineEdit } from './mutate';
import { CODECS, SHAPES, SUFFIX, bombBytes, compress, fileBytes, logFiles, makeUnit, type BombSpec, type FuzzCodec, type Unit } from './seeds';

/** Names of a log target's properties: `<collect>/…` for the collector, `<validate>/…` for validate. */
interface Prefixes {
  collect: string;
  validate: string;
}

function logProperties({ collect: c, validate: v }: Prefixes, valueEdits: boolean): Record<string, string> {
  return {
    [`${c}/no-uncaught`]: 'collect finishes: nothing thrown, no uncaught exception or unhandled rejection',
    [`${c}/bounded`]: 'each case within the time limit, and peak RSS grows by at most the memory limit',
    [`${c}/good-kept`]: 'the good logs beside the mutated one give exactly the record and problems they give alone',
    [`${c}/named`]: 'every problem names a file of the case; the mutated log gives a record or a problem naming it',
    [`${c}/no-internal-error`]: 'no problem message is a JavaScript exception passed through (RangeError, stack overflow, …)',
    [`${c}/possible-values`]: 'every record passes the record schema: counts and sizes are non-negative integers, times valid ISO',
    ...(valueEdits
      ? {
          [`${c}/record-kept`]: 'one changed value in one line never loses the record',
          [`${c}/rest-read`]: 'one changed value in one line changes task and stage counts by at most one: the lines after it are read',
        }
      : {}),
    [`${v}/no-abort`]: 'validate finishes on the same folder and counts every good file as checked',
    [`${v}/bounded`]: 'validate within the time and memory limits',
    [`${v}/good-kept`]: "the good logs' findings are exactly their findings alone",
    [`${v}/no-internal-error`]: 'no finding or message is a JavaScript exception passed through',
  };
}

/** A real log from ../shared, used as one more shape (single file, any codec). */
export interface RealLog {
  name: string;
  text: string;
}

export interface LogCase {
  /** Index into SHAPES, then into the real logs. */
  shape: number;
  codec: number;
  /** Which event-log file of the unit (rolling and Databricks units have two). */
  part: number;
  lines: LineEdit[];
  bytes: ByteEdit[];
  /** Good units from the pool that share the folder. */
  good: number[];
}

export interface BombCase {
  bomb: BombSpec;
  good: number[];
}

interface Baseline {
  /** Normalized record and problems, null when collecting the unit alone gave no record. */
  app: string | null;
  tasks: number;
  stages: number;
  /** validate's JSON lines for the unit's files, normalized. */
  findings: string[];
  logFiles: number;
}

const POOL_SIZE = SHAPES.length;

/** The good logs: one per shape, each in another codec than its neighbour. */
function goodPool(): Unit[] {
  return SHAPES.map((shape, i) => makeUnit(shape, CODECS[(i + 1) % CODECS.length]!, `app-good-${i}`, 100 + i));
}

function normalizedApp(dir: string, app: CollectedApp): string {
  return normalized(dir, { record: app.record, problems: app.problems, files: app.files });
}

function writeFile(file: string, bytes: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

interface Validated {
  lines: { file: string; line: number; severity: string; code: string; message: string }[];
  err: string[];
  checked: number | null;
  code: number;
}

async function validate(dir: string): Promise<Validated> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand([dir, '--format', 'json'], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: dir });
  const checked = err.map((l) => /^(\d+) files checked/.exec(l)?.[1]).find((n) => n !== undefined);
  return { lines: out.map((l) => JSON.parse(l) as Validated['lines'][number]), err, checked: checked === undefined ? null : Number(checked), code };
}

const under = (root: string, p: string | undefined): boolean => p !== undefined && (p === root || p.startsWith(root + path.sep));

export interface LogTargetOptions {
  /** A folder this target may fill; each case's folder is removed after it. */
  root: string;
  limits?: Limits;
  realLogs?: RealLog[];
  /** Mutate only the real logs (the synthetic shapes are then only the good neighbours). */
  realOnly?: boolean;
}

/** What the event-log targets share: the good pool, baselines, and the checks of one case folder. */
class LogBench {
  readonly pool = goodPool();
  private readonly poolBytes = this.pool.map((u) => u.files.map(fileBytes));
  private readonly baselines = new Map<string, Baseline>();
  private n = 0;
  readonly limits: Limits;

  constructor(
    readonly opts: LogTargetOptions,
    readonly prefix: Prefixes,
  ) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
  }

  caseDir(): string {
    const dir = path.join(this.opts.root, `case-${this.n++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  writeGood(dir: string, good: number[]): Unit[] {
    const units = [...new Set(good.map((g) => g % POOL_SIZE))].map((g) => {
      this.pool[g]!.files.forEach((f, i) => writeFile(path.join(dir, f.rel), this.poolBytes[g]![i]!));
      return this.pool[g]!;
    });
    return units;
  }

  /** What a unit gives alone (collect and validate), computed once. */
  async baseline(unit: Unit, bytes: Buffer[]): Promise<Baseline> {
    const key = `${unit.shape}:${unit.id}:${unit.files.map((f) => f.codec).join(',')}`;
    const known = this.baselines.get(key);
    if (known) return known;
    const dir = path.join(this.opts.root, `baseline-${this.baselines.size}`);
    unit.files.forEach((f, i) => writeFile(path.join(dir, f.rel), bytes[i]!));
    const got = await collectAll({ path: dir, source: 'fuzz', concurrency: 2 });
    const app = got.apps.find((a) => a.provenance.path === path.join(dir, unit.root));
    const v = await validate(dir);
    const b: Baseline = {
      app: app ? normalizedApp(dir, app) : null,
      tasks: app?.record.total_tasks ?? 0,
      stages: app?.record.total_stages ?? 0,
      findings: v.lines.filter((l) => under(path.join(dir, unit.root), l.file)).map((l) => normalized(dir, l)),
      logFiles: logFiles(unit).length,
    };
    rmSync(dir, { recursive: true, force: true });
    this.baselines.set(key, b);
    return b;
  }

  async goodBaselines(units: Unit[]): Promise<Baseline[]> {
    return Promise.all(units.map((u) => this.baseline(u, this.poolBytes[this.pool.indexOf(u)]!)));
  }

  /**
   * Collects and validates `dir`, where `goods` are the good units and `targetRoot` (relative) the
   * mutated one; `unmutated` is the target's own baseline when the case changed one value only.
   */
  async check(dir: string, goods: Unit[], targetRoot: string, unmutated: Baseline | null): Promise<Violation[]> {
    const out: Violation[] = [];
    const goodBase = await this.goodBaselines(goods);
    const target = path.join(dir, targetRoot);

    const m = await measure(() => collectAll({ path: dir, source: 'fuzz', concurrency: 2 }), this.limits.caseMs);
    out.push(...basicViolations(this.prefix.collect, 'collect', m, this.limits));
    if (m.value) out.push(...this.checkCollected(dir, m.value, goods, goodBase, target, unmutated));

    const v = await measure(() => validate(dir), this.limits.caseMs);
    const p = this.prefix.validate;
    out.push(...basicViolations(p, 'validate', v, this.limits).map((x) => (x.kind === `${p}/no-uncaught` ? { ...x, kind: `${p}/no-abort` } : x)));
    if (v.value) out.push(...checkValidated(p, dir, v.value, goods, goodBase));
    return out;
  }

  private checkCollected(dir: string, got: Gathered, goods: Unit[], goodBase: Baseline[], target: string, unmutated: Baseline | null): Violation[] {
    const out: Violation[] = [];
    const c = this.prefix.collect;
    const all: Problem[] = [...got.problems, ...got.apps.flatMap((a) => a.problems)];
    goods.forEach((g, i) => {
      const root = path.join(dir, g.root);
      const app = got.apps.find((a) => a.provenance.path === root);
      const base = goodBase[i]!;
      if (!app) out.push({ kind: `${c}/good-kept`, detail: `no record for the good log ${g.root} (alone it gives one)` });
      else if (normalizedApp(dir, app) !== base.app) out.push({ kind: `${c}/good-kept`, detail: `the good log ${g.root} gives another record or problems than alone: ${firstDifference(normalizedApp(dir, app), base.app ?? '')}` });
      const loose = got.problems.filter((p) => under(root, p.file) && p.severity !== 'info');
      if (loose.length > 0) out.push({ kind: `${c}/good-kept`, detail: `problems name the good log ${g.root}: ${loose[0]!.message}` });
    });
    for (const p of all) {
      if (!under(dir, p.file)) out.push({ kind: `${c}/named`, detail: `a problem names no file of the case: ${JSON.stringify(p).slice(0, 300)}` });
      if (INTERNAL_ERROR.test(p.message)) out.push({ kind: `${c}/no-internal-error`, detail: `${p.code}: ${p.message.slice(0, 300)}` });
    }
    const mine = got.apps.find((a) => a.provenance.path === target);
    if (!mine && !all.some((p) => under(target, p.file))) out.push({ kind: `${c}/named`, detail: `the mutated log ${path.relative(dir, target)} gave neither a record nor a problem naming it` });
    for (const a of got.apps) {
      const r = sparkAppRecordSchema.strict().safeParse(a.record);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const field = issue.path.join('.');
        out.push({ kind: `${c}/possible-values`, detail: `${path.relative(dir, a.provenance.path)}: ${field} = ${JSON.stringify((a.record as Record<string, unknown>)[field])} (${issue.message})` });
      }
    }
    if (unmutated !== null && unmutated.app !== null) {
      if (!mine) {
        const why = all.find((p) => under(target, p.file) && p.severity === 'error');
        out.push({ kind: `${c}/record-kept`, detail: `one changed value lost the record${why ? `: ${why.code} ${why.message.slice(0, 200)}` : ''}` });
      } else if (Math.abs(mine.record.total_tasks - unmutated.tasks) > 1 || Math.abs(mine.record.total_stages - unmutated.stages) > 1) {
        const why = mine.problems.find((p) => p.severity === 'error');
        out.push({ kind: `${c}/rest-read`, detail: `tasks ${mine.record.total_tasks} (was ${unmutated.tasks}), stages ${mine.record.total_stages} (was ${unmutated.stages})${why ? `: ${why.code} ${why.message.slice(0, 200)}` : ''}` });
      }
    }
    return out;
  }
}

function checkValidated(p: string, dir: string, v: Validated, goods: Unit[], goodBase: Baseline[]): Violation[] {
  const out: Violation[] = [];
  goods.forEach((g, i) => {
    const root = path.join(dir, g.root);
    const mine = v.lines.filter((l) => under(root, l.file)).map((l) => normalized(dir, l));
    const base = goodBase[i]!.findings;
    if (JSON.stringify(mine) !== JSON.stringify(base)) out.push({ kind: `${p}/good-kept`, detail: `findings of the good log ${g.root} differ from alone: ${firstDifference(JSON.stringify(mine), JSON.stringify(base))}` });
  });
  const goodFiles = goodBase.reduce((n, b) => n + b.logFiles, 0);
  if (v.checked === null || v.checked < goodFiles) out.push({ kind: `${p}/no-abort`, detail: `validate says ${v.checked ?? 'no count of'} files checked, fewer than the ${goodFiles} good ones` });
  for (const l of v.lines) if (INTERNAL_ERROR.test(l.message)) out.push({ kind: `${p}/no-internal-error`, detail: `${path.relative(dir, l.file)}: ${l.code} ${l.message.slice(0, 300)}` });
  for (const l of v.err) if (INTERNAL_ERROR.test(l)) out.push({ kind: `${p}/no-internal-error`, detail: l.slice(0, 300) });
  return out;
}

function realUnit(i: number, log: RealLog, codec: FuzzCodec): Unit {
  const name = `app-fuzz-real-${i}${SUFFIX[codec]}`;
  return { id: `app-fuzz-real-${i}`, shape: 'real', root: name, files: [{ rel: name, plain: log.text, codec }] };
}

const goodArb = fc.uniqueArray(fc.nat({ max: POOL_SIZE - 1 }), { minLength: 1, maxLength: 2 });

function logCaseArb(shapes: { min: number; max: number }, lines: fc.Arbitrary<LineEdit[]>, bytes: fc.Arbitrary<ByteEdit[]>): fc.Arbitrary<LogCase> {
  return fc.record({
    shape: fc.integer(shapes),
    codec: fc.nat({ max: CODECS.length - 1 }),
    part: fc.nat({ max: 1 }),
    lines,
    bytes,
    good: goodArb,
  });
}

/** Mutated logs of every shape, layout and codec beside good ones. */
export function eventLogTarget(opts: LogTargetOptions): Target<LogCase> {
  const prefix = { collect: 'eventlog', validate: 'validate' };
  const bench = new LogBench(opts, prefix);
  const real = opts.realLogs ?? [];
  if (opts.realOnly && real.length === 0) throw new Error('realOnly needs real logs');
  const shapes = { min: opts.realOnly ? SHAPES.length : 0, max: SHAPES.length + real.length - 1 };
  const targets = new Map<string, { unit: Unit; bytes: Buffer[] }>();
  const targetUnit = (c: LogCase): { unit: Unit; bytes: Buffer[] } => {
    const s = c.shape % (SHAPES.length + real.length);
    const codec = CODECS[c.codec % CODECS.length]!;
    const key = `${s}:${codec}`;
    let t = targets.get(key);
    if (!t) {
      const unit: Unit =
        s < SHAPES.length
          ? makeUnit(SHAPES[s]!, codec, 'app-fuzz-target', 7)
          : // A real log keeps its own app id inside; the file name only has to be an app-like name.
            realUnit(s - SHAPES.length, real[s - SHAPES.length]!, codec);
      t = { unit, bytes: unit.files.map(fileBytes) };
      targets.set(key, t);
    }
    return t;
  };
  return {
    name: opts.realOnly ? 'eventlog (real Spark logs)' : 'eventlog',
    properties: logProperties(prefix, true),
    arbitrary: fc.oneof(
      // One value changed in one line: the record must stay, and the rest of the log must be read.
      { weight: 4, arbitrary: logCaseArb(shapes, fc.tuple(valueEditArb), fc.constant([])) },
      // Lines duplicated, deleted, reordered, cut, BOMs, CRLF, junk, several values.
      { weight: 2, arbitrary: logCaseArb(shapes, fc.array(lineEditArb, { minLength: 1, maxLength: 3 }), fc.constant([])) },
      // The file's bytes: codec frames and lengths corrupted, cut, invalid UTF-8 in a plain log.
      { weight: 2, arbitrary: logCaseArb(shapes, fc.constant([]), fc.array(byteEditArb, { minLength: 1, maxLength: 2 })) },
      { weight: 1, arbitrary: logCaseArb(shapes, fc.array(lineEditArb, { minLength: 1, maxLength: 2 }), fc.array(byteEditArb, { minLength: 1, maxLength: 2 })) },
    ),
    run: async (c) => {
      const dir = bench.caseDir();
      try {
        const goods = bench.writeGood(dir, c.good);
        const { unit, bytes } = targetUnit(c);
        const parts = logFiles(unit);
        const part = parts[c.part % parts.length]!;
        unit.files.forEach((f, i) => {
          let b = bytes[i]!;
          if (f === part) {
            if (c.lines.length > 0) b = compress(f.codec, editLines(f.plain!, c.lines));
            if (c.bytes.length > 0) b = editBytes(b, c.bytes);
          }
          writeFile(path.join(dir, f.rel), b);
        });
        const unmutated = c.bytes.length === 0 && onlyValueEdits(c.lines) ? await bench.baseline(unit, bytes) : null;
        return await bench.check(dir, goods, unit.root, unmutated);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close: () => Promise.resolve(),
  };
}

export interface BombRange {
  /** Smallest and largest decoded line, in MiB. */
  minMb: number;
  maxMb: number;
}

/** Decompression bombs (zstd RLE blocks, gzip members) beside good logs: memory and time must stay bounded. */
export function bombTarget(opts: LogTargetOptions & { range: BombRange }): Target<BombCase> {
  const prefix = { collect: 'bomb', validate: 'bomb-validate' };
  const bench = new LogBench(opts, prefix);
  const { minMb, maxMb } = opts.range;
  return {
    name: 'bomb',
    properties: logProperties(prefix, false),
    arbitrary: fc.record({
      bomb: fc.record({
        codec: fc.constantFrom('zstd' as const, 'gzip' as const),
        fill: fc.constantFrom('a' as const, 'a' as const, ' ' as const, '\n' as const),
        lineBytes: fc.integer({ min: minMb << 20, max: maxMb << 20 }),
        lines: fc.integer({ min: 1, max: 2 }),
        frame: fc.constantFrom('bare' as const, 'property' as const, 'property' as const),
      }),
      good: goodArb,
    }),
    run: async (c) => {
      const dir = bench.caseDir();
      try {
        const goods = bench.writeGood(dir, c.good);
        // Empty lines cost a call each: a bomb of newlines is cut to 2 MiB of them per line, still millions of lines.
        const spec: BombSpec = c.bomb.fill === '\n' ? { ...c.bomb, lineBytes: Math.min(c.bomb.lineBytes, 2 << 20) } : c.bomb;
        const name = `app-fuzz-bomb${spec.codec === 'zstd' ? '.zstd' : '.gz'}`;
        writeFile(path.join(dir, name), bombBytes(spec));
        return await bench.check(dir, goods, name, null);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close: () => Promise.resolve(),
  };
}
