/**
 * V8 flags for a command's run, set in the CLI's process only (never in the extension host, which is
 * shared with other extensions): by its entry (launcher.ts) before it compiles the CLI's bundle with a
 * code cache, after it compiles the bundle without one, and again before it writes the cache (V8
 * takes a cache only in a process whose flags are those it was made with); and by `collect` once its
 * run outgrows start-up size (tierUpAsUsual, tuneV8ForLongRun).
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
  // unless a `collect` grows big (tuneV8ForLongRun then sets V8's default growth, 2).
  '--semi-space-growth-factor=1',
  // V8 optimises a function once it has run about this much bytecode (V8 11's default is 66 KB). Eight
  // times the default tiers up the same hot functions a little later and spares the ones that are
  // only warm in a short run: TurboFan's compiles were ~2.3 MB of a small `collect`'s peak (issue
  // #12), and larger runs took less CPU, not more (1,000 logs in one thread: 1.12-1.21 s of CPU
  // against 1.45-1.53 s; on the pool: 1.47-1.63 s against 1.69-1.96 s).
  '--interrupt-budget=540672',
];

/**
 * WebAssembly compiled after this is set tiers up to the optimising compiler as V8 would anyway.
 * V8 takes dynamic tiering per module, when the module compiles, so SQLite's (compiled when the store
 * opens) stays on the baseline compiler (FLAGS); `--wasm-tier-up` instead is read as each function is
 * first compiled, lazily, so setting it would tier up every SQLite function first called afterwards (a
 * review measured 104 -> 118 MB). The LZ decoders (codecs/lz.wat) read a 128 MB log's LZ4 blocks and
 * their checksums in 50-67 ms optimised and 120-135 ms on the baseline compiler, no faster than the
 * JavaScript they replaced.
 */
const WASM_TIER_UP_FLAGS = ['--wasm-dynamic-tiering'];

/**
 * Each command's own flags, after FLAGS. Every command but `collect` runs without baseline (Sparkplug)
 * code: in a start-up-sized run it compiled the warm functions once more for little, 0.5 MB of a small
 * run's peak (issue #12). The hot ones still reach TurboFan; one 323 MB log took the same CPU
 * (0.68-0.69 s against 0.68 s).
 *
 * `collect` starts with Sparkplug and keeps TurboFan for later instead: V8 optimises a function on
 * its first interrupt when its bytecode is short (up to 81 bytes) and after 3 interrupts otherwise;
 * here after 24, none early. A small run's hottest functions (the event-log reader's sameBytes and
 * nextQuote) reached TurboFan within 1 MB of logs, and a process's first optimising compile costs
 * more than the compile: it pages in 1.1 MB of the node binary's compiler code. 4 logs (1.1 MB) into
 * a new database: 60.0-60.1 -> 59.1-59.2 MB (medians of 36 runs, interleaved), CPU 144 -> 143 ms;
 * without Sparkplug as well 58.5 MB but 6 ms more CPU (the hot functions interpreted). A run past
 * start-up size gets V8's own tier-up back (tierUpAsUsual): one 128 MB log read under these flags to
 * its end took 0.39-0.42 s of CPU against 0.36.
 */
function commandFlags(command: string | undefined): readonly string[] {
  if (command === 'collect') return ['--sparkplug', '--max-bytecode-size-for-early-opt=0', '--ticks-before-optimization=24'];
  // `validate` never opens SQLite: the one WebAssembly it may compile is the LZ decoders' (see WASM_TIER_UP_FLAGS).
  return command === 'validate' ? ['--no-sparkplug', ...WASM_TIER_UP_FLAGS] : ['--no-sparkplug'];
}

/**
 * Whether a run with these arguments (process.argv after the script) is tuned: a command's run. Not
 * `--help`, `--version` or a usage error: loading node:v8 loads Node's stream modules, 1.1 MB of
 * `--help`'s peak (issue #12), for nothing to tune.
 */
export function tunesV8(argv: readonly string[]): boolean {
  return isCommand(argv[0]) && !asksForHelp(argv.slice(1));
}

/** Sets the flags above for `command`'s run (again, when they were set: a run may have changed some since, see FLAGS). */
export function tuneV8(command: string | undefined): void {
  for (const flag of [...FLAGS, ...commandFlags(command)]) setFlagsFromString(flag);
}

/** V8's own tier-up (V8 11, Node 20's defaults), which `collect` holds back at start (commandFlags). */
const TIER_UP_FLAGS = ['--max-bytecode-size-for-early-opt=81', '--ticks-before-optimization=3', ...WASM_TIER_UP_FLAGS];

/**
 * A `collect` that reads more than a start-up-sized run (collectCommand.ts) optimises its hot
 * functions as V8 would: a 128 MB log took 0.41 s of CPU with the start's tier-up held, 0.36 s without.
 * WebAssembly compiled from then on (the LZ decoders) tiers up too; SQLite's, compiled before, does not.
 */
export function tierUpAsUsual(): void {
  for (const flag of TIER_UP_FLAGS) setFlagsFromString(flag);
}

const LONG_RUN_FLAGS = ['--semi-space-growth-factor=2'];

/**
 * A run that is no longer start-up-sized (collectCommand.ts: past the size where the event-log pool
 * starts) lets the young generation grow again (V8's default factor; the pool's threads took 3-4%
 * more CPU with it held); it has had V8's own tier-up back by then (tierUpAsUsual). V8's flags hold
 * for the whole process, so the pool's threads read under them too; that is also why `collect` has
 * Sparkplug from the start (commandFlags): without it every function a small log runs that TurboFan
 * has not reached yet is interpreted (5,000 small logs read in one thread: 1.03-1.07 s without
 * Sparkplug, 0.78-0.79 s with it; 10,000 small logs into a new database, per-thread CPU from /proc:
 * each reader 1.17-1.39 -> 0.96-1.15 CPU-s, the run 3.24-3.37 -> 3.00-3.17 s; issue #12). The launcher
 * sets the start's flags again before it writes a code cache (V8 takes a cache only under the flags
 * it was made with).
 *
 * Node warns that flags changed after start-up may behave unpredictably: other threads may be running
 * (V8's compiler threads; the pool's, when the switch comes from bytes read rather than logs found).
 * These are read afresh at each tier-up decision and each scavenge, and flipping them mid-run was
 * seen to do nothing else (a review ran it with the pool's threads reading).
 */
export function tuneV8ForLongRun(): void {
  for (const flag of LONG_RUN_FLAGS) setFlagsFromString(flag);
}
