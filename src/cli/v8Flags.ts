/**
 * V8 flags for a command's run, set in the CLI's process only (never in the extension host, which is
 * shared with other extensions) by its entry (launcher.ts): before it compiles the CLI's bundle with a
 * code cache, after it compiles the bundle without one, and again before it writes the cache. V8
 * takes a cache only in a process whose flags are those it was made with.
 */
import { setFlagsFromString } from 'node:v8';
import { asksForHelp, isCommand } from './commands';

const FLAGS = [
  // SQLite's WebAssembly runs on V8's baseline compiler only: opening a database made V8 tier its
  // large functions up to the optimizing compiler, and its compiles and tier-up state cost `jobs`
  // ~35 MB and a fresh-database `collect` 80 -> 66 MB (issue #12), for a few percent of speed in
  // long runs. Set here, not in the storage code: V8 flags hold for the whole process.
  '--no-wasm-tier-up',
  '--no-wasm-dynamic-tiering',
  // Start-up allocates what lives on (modules, zod schemas, SQLite's compiled statements), so every
  // scavenge sees a high survival rate and V8 grows the young generation from 1 to 8 MB before any
  // work is done: 2-3 MB of a command's peak (issue #12, 60 MB target). It stays at its first size
  // unless a `collect` grows big (collectCommand.ts then sets V8's default growth, 2).
  '--semi-space-growth-factor=1',
  // V8 optimises a function once it has run about this much bytecode (V8 11's default is 66 KB). Eight
  // times the default tiers up the same hot functions a little later and spares the ones that are
  // only warm in a short run: TurboFan's compiles were ~2.3 MB of a small `collect`'s peak (issue
  // #12), and larger runs took less CPU, not more (1,000 logs in one thread: 1.12-1.21 s of CPU
  // against 1.45-1.53 s; on the pool: 1.47-1.63 s against 1.69-1.96 s).
  '--interrupt-budget=540672',
  // No baseline (Sparkplug) code: in a start-up-sized run it compiled the warm functions once more
  // for little, 0.5 MB of a small `collect`'s peak (issue #12). The hot ones still reach TurboFan;
  // one 323 MB log took the same CPU (0.68-0.69 s against 0.68 s), 300 logs on the pool too.
  '--no-sparkplug',
];

/**
 * Whether a run with these arguments (process.argv after the script) is tuned: a command's run. Not
 * `--help`, `--version` or a usage error: loading node:v8 loads Node's stream modules, 1.1 MB of
 * `--help`'s peak (issue #12), for nothing to tune.
 */
export function tunesV8(argv: readonly string[]): boolean {
  return isCommand(argv[0]) && !asksForHelp(argv.slice(1));
}

/** Sets the flags above (again, when they were set: a run may have changed one since, see FLAGS). */
export function tuneV8(): void {
  for (const flag of FLAGS) setFlagsFromString(flag);
}
