/**
 * `npm run fuzz`: the long run of the fuzz suite (test/fuzz/, issue #13). Every target runs its
 * share of a time budget (or a case count), failures are counted by property, and the first case
 * that broke each property is shrunk by fast-check. Prints cases per target, failures by kind,
 * time and peak RSS; BENCHMARKS.md ("Fuzzing") records a run.
 *
 *   npm run fuzz
 *   FUZZ_SEED=7 FUZZ_TIME_S=300 FUZZ_CASES=5000 npm run fuzz
 *   FUZZ_TARGETS=eventlog,config FUZZ_BOMB_MB=2048 FUZZ_MAX_SOURCES=100000 npm run fuzz
 *
 * FUZZ_SEED (default 1), FUZZ_TIME_S (cases of all targets, default 420), FUZZ_CASES (most per target,
 * default 100000), FUZZ_TARGETS (eventlog, real, bomb, config, rest; default all), FUZZ_BOMB_MB
 * (largest decoded line of a bomb, default 1024), FUZZ_MAX_SOURCES (largest scaled config, default
 * 20000), FUZZ_CASE_MS and FUZZ_RSS_MB (per-case limits, default 10000 and 300), FUZZ_SHRINK_S
 * (shrinking per broken property, default 10; 0 = off). Exit 1 when a property broke.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { configTarget } from '../test/fuzz/configTarget';
import { bombTarget, eventLogTarget, type RealLog } from '../test/fuzz/eventLogTarget';
import { DEFAULT_LIMITS, peakRss, runTarget, show, shrink, type Limits, type Tally, type Target } from '../test/fuzz/harness';
import { restTarget } from '../test/fuzz/restTarget';
import { SMALL_SHAPES, cutShape, readShape, sharedDir } from '../test/support/sparkShapes';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0, got ${JSON.stringify(raw)}`);
  return n;
};

const seed = env('FUZZ_SEED', 1);
const budgetMs = env('FUZZ_TIME_S', 420) * 1000;
const maxCases = env('FUZZ_CASES', 100_000);
const shrinkMs = env('FUZZ_SHRINK_S', 10) * 1000;
const limits: Limits = { caseMs: env('FUZZ_CASE_MS', DEFAULT_LIMITS.caseMs), rssMb: env('FUZZ_RSS_MB', DEFAULT_LIMITS.rssMb) };
const wanted = (process.env.FUZZ_TARGETS ?? 'eventlog,real,bomb,config,rest').split(',').map((s) => s.trim());

/** A target's share of the time budget: bombs are few and slow, the rest share alike. */
const WEIGHTS: Record<string, number> = { eventlog: 4, real: 1, bomb: 1, config: 2, rest: 2 };

function realLogs(): RealLog[] {
  if (!existsSync(sharedDir())) return [];
  return SMALL_SHAPES.map((file) => ({ name: file, text: `${[...cutShape(readShape(file), 40_000)].join('\n')}\n` }));
}

function make(name: string, root: string): Target<unknown> | null {
  switch (name) {
    case 'eventlog':
      return eventLogTarget({ root, limits }) as Target<unknown>;
    case 'real': {
      const real = realLogs();
      if (real.length === 0) {
        console.log(`real: skipped, no shared logs at ${sharedDir()} (set SPARK_SHARED)`);
        return null;
      }
      return eventLogTarget({ root, limits, realLogs: real, realOnly: true }) as Target<unknown>;
    }
    case 'bomb':
      return bombTarget({ root, limits, range: { minMb: 16, maxMb: env('FUZZ_BOMB_MB', 1024) } }) as Target<unknown>;
    case 'config':
      return configTarget({ root, limits, maxSources: env('FUZZ_MAX_SOURCES', 20_000) }) as Target<unknown>;
    case 'rest':
      return restTarget({ root, limits }) as Target<unknown>;
    default:
      throw new Error(`unknown fuzz target ${JSON.stringify(name)}; use eventlog, real, bomb, config, rest`);
  }
}

async function main(): Promise<number> {
  const root = mkdtempSync(path.join(tmpdir(), 'spark-opt-fuzz-'));
  const started = performance.now();
  const weights = wanted.reduce((n, t) => n + (WEIGHTS[t] ?? 1), 0);
  console.log(`fuzz: seed ${seed}, ${Math.round(budgetMs / 1000)} s budget, at most ${maxCases} cases per target, limits ${limits.caseMs} ms and ${limits.rssMb} MB per case`);
  const tallies: { tally: Tally<unknown>; target: Target<unknown> }[] = [];
  let broken = 0;
  try {
    for (const name of wanted) {
      const dir = path.join(root, name);
      const target = make(name, dir);
      if (target === null) continue;
      const share = (budgetMs * (WEIGHTS[name] ?? 1)) / weights;
      let lastLine = performance.now();
      const tally = await runTarget(target, {
        seed,
        cases: maxCases,
        timeMs: share,
        onCase: (i) => {
          if (performance.now() - lastLine > 30_000) {
            lastLine = performance.now();
            console.log(`  ${target.name}: ${i} cases…`);
          }
        },
      });
      tallies.push({ tally, target });
      console.log(`\n${target.name}: ${tally.cases} cases in ${(tally.ms / 1000).toFixed(1)} s (${(tally.cases / (tally.ms / 1000)).toFixed(1)}/s), peak RSS so far ${Math.round(tally.peakRssMb)} MB`);
      for (const kind of Object.keys(target.properties)) {
        const f = tally.failures.get(kind);
        console.log(`  ${f ? 'FAIL' : 'ok  '} ${kind}${f ? `: ${f.count} cases` : ''}`);
      }
      for (const [kind, f] of tally.failures) {
        broken++;
        if (shrinkMs > 0) {
          const s = await shrink(target, kind, f.first, seed, shrinkMs);
          console.log(`  ${kind}, smallest (${s.steps} shrinks): ${show(s.counterexample)}\n      ${s.detail.replace(/\n/g, ' ')}`);
        } else {
          console.log(`  ${kind}, first: ${show(f.first)}\n      ${f.detail.replace(/\n/g, ' ')}`);
        }
      }
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const total = tallies.reduce((n, t) => n + t.tally.cases, 0);
  console.log(`\n${total} cases (${tallies.map((t) => `${t.target.name} ${t.tally.cases}`).join(', ')}) in ${((performance.now() - started) / 1000).toFixed(0)} s; ${broken} properties broken; peak RSS ${Math.round(peakRss() / 2 ** 20)} MB`);
  return broken > 0 ? 1 : 0;
}

main().then(
  (code) => {
    // A case that timed out may still hold sockets or timers: the run is over.
    process.exit(code);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
