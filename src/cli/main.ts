/**
 * `spark-optimizer` command line, on the same core as the extension.
 * Exit codes: 0 = ran (problems are reported, not fatal), 1 = fatal (bad path, unreadable config or
 * database, nothing readable), 2 = usage error, 3 = `collect --fail-on-regression` stored runs that
 * regressed against their history (issue 18; only when nothing else failed, else 1), 128 + N = a
 * collect stopped by signal N.
 */
import { writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { visible } from '../common/format';
import { version } from '../../package.json';
import { UsageError, type Io } from './io';
import { COMMANDS, isCommand, type Command } from './commands';
// Loading it sets nothing up: SQLite is instantiated by loadSqlJs, when a database opens.
import { compileSqlJs } from '../storage/sqlJs';

/** The help texts, built from the source registry: loaded only when shown (issue #12: start-up). */
async function usage(): Promise<typeof import('./usage')> {
  return import('./usage.js');
}

/** Whether the arguments ask for help: `--help` or `-h` anywhere before a `--`. */
function asksForHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * A usage error's message on one line: node:util parseArgs adds advice on positionals to its own
 * ("Unknown option '--x'. To specify a positional argument starting with a '-', …"); its first
 * sentence is the message.
 */
function usageMessage(err: Error, parseArgs: boolean): string {
  if (!parseArgs) return err.message;
  const first = err.message.split(/\.\s/)[0]!.replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

type Write = (s: string | Uint8Array) => void;

/**
 * A standard stream that its reader may close: `jobs --format json | head -1` closes stdout after one
 * line, and the next write fails with EPIPE, which Node throws as an unhandled 'error' event, a stack
 * trace (issue 16). Once closed, what is left to write is dropped and the command ends as it would
 * have, with its own exit status (a collect still stores what it reads; validate still counts errors).
 */
function closable(stream: NodeJS.WriteStream): Write {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    closed = true;
  });
  return (s) => {
    if (!closed) stream.write(s);
  };
}

/**
 * Standard output or error written with fs.writeSync, not through process.stdout/stderr: the first
 * touch of either builds a net.Socket or an fs.SyncWriteStream and loads Node's stream modules,
 * 1.3-1.8 MB of every command's 60 MB start-up budget (issue #12). On Linux and macOS Node writes
 * these streams synchronously anyway (files, TTYs and pipes), so the output and its order are the
 * same. A closed reader (EPIPE, or ECONNRESET on a socket) is handled as closable() does. A descriptor left non-blocking by
 * whoever opened it (EAGAIN) hands the rest, and what follows, to the stream. Windows keeps the
 * streams: a console there is not written as bytes.
 */
function standard(fd: 1 | 2, stream: () => NodeJS.WriteStream): Write {
  if (process.platform === 'win32') return closable(stream());
  let closed = false;
  let viaStream: Write | undefined;
  return (s) => {
    if (closed) return;
    if (viaStream !== undefined) return viaStream(s);
    const bytes = Buffer.from(s);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A socket's reader that closed with our output unread (node's spawn pipes are socket pairs) is ECONNRESET.
      if (code === 'EPIPE' || code === 'ECONNRESET') closed = true;
      else if (code === 'EAGAIN') (viaStream = closable(stream()))(bytes.subarray(done));
      else throw e;
    }
  };
}

/**
 * Whether a command is about to open the workspace's SQLite file: every command but `validate`,
 * unless it is a `--dry-run` or names a PostgreSQL server (the URL is told by its scheme, wherever
 * it is in the arguments). A wrong guess costs a compile on a background thread, nothing else.
 */
function opensSqlite(command: Command, args: readonly string[]): boolean {
  return command !== 'validate' && !args.some((a) => a === '--dry-run' || /^postgres(ql)?:/i.test(a) || /^--db=postgres(ql)?:/i.test(a));
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  // SQLite's WebAssembly compiles on V8's background threads while the command's modules load (issue #12).
  if (isCommand(command) && !asksForHelp(rest) && opensSqlite(command, rest)) void compileSqlJs();
  try {
    if (isCommand(command) && asksForHelp(rest)) {
      io.out((await usage()).commandUsage(command));
      return 0;
    }
    // Before the command's modules build their zod schemas (zodConfig.ts).
    if (isCommand(command)) (await import('./zodConfig.js')).zodWithoutCodegen();
    switch (command) {
      // Each command's modules (zod schemas, yaml, sql.js) are set up when it runs (issue #12: start-up).
      case 'collect':
        return await (await import('./collectCommand.js')).collectCommand(rest, io);
      case 'jobs':
        return await (await import('./jobsCommand.js')).jobsCommand(rest, io);
      case 'show':
        return await (await import('./showCommand.js')).showCommand(rest, io);
      case 'compare':
        return await (await import('./compareCommand.js')).compareCommand(rest, io);
      case 'runs':
        return await (await import('./jobsCommand.js')).runsCommand(rest, io);
      case 'validate':
        return await (await import('./validateCommand.js')).validateCommand(rest, io);
      case 'db':
        return await (await import('./dbCommand.js')).dbCommand(rest, io);
      case '--version':
      case '-V':
        io.out(`spark-optimizer ${version}`);
        return 0;
      case 'help':
        if (isCommand(rest[0])) {
          io.out((await usage()).commandUsage(rest[0]));
          return 0;
        }
        io.out((await usage()).USAGE);
        return 0;
      case '-h':
      case '--help':
        io.out((await usage()).USAGE);
        return 0;
      case undefined:
        throw new UsageError(`a command is needed: ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)!}`);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    // `code` is not always a string: a DOMException's (an AbortError's) is a number.
    const code: unknown = (err as { code?: unknown } | null)?.code;
    const parseArgs = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || parseArgs) {
      // One line and where the help is, not the whole text (issue 16).
      const help = isCommand(command) ? `Run 'spark-optimizer ${command} --help' for its usage.` : "Run 'spark-optimizer --help' for the usage.";
      io.err(`spark-optimizer: ${usageMessage(err as Error, parseArgs)}\n${help}`);
      return 2;
    }
    io.err(`spark-optimizer: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * V8 flags for a command's run, set in the CLI's process only (never in the extension host, which is
 * shared with other extensions). Not for `--help`, `--version` or a usage error: loading node:v8
 * loads Node's stream modules, 1.1 MB of `--help`'s peak (issue #12), for nothing to tune.
 */
function tuneV8(): void {
  // SQLite's WebAssembly runs on V8's baseline compiler only: opening a database made V8 tier its
  // large functions up to the optimizing compiler, and its compiles and tier-up state cost `jobs`
  // ~35 MB and a fresh-database `collect` 80 -> 66 MB (issue #12), for a few percent of speed in
  // long runs. Set here, not in the storage code: V8 flags hold for the whole process.
  setFlagsFromString('--no-wasm-tier-up');
  setFlagsFromString('--no-wasm-dynamic-tiering');
  // Start-up allocates what lives on (modules, zod schemas, SQLite's compiled statements), so every
  // scavenge sees a high survival rate and V8 grows the young generation from 1 to 8 MB before any
  // work is done: 2-3 MB of a command's peak (issue #12, 60 MB target). It stays at its first size
  // unless a `collect` grows big (collectCommand.ts then restores V8's default growth, 2).
  setFlagsFromString('--semi-space-growth-factor=1');
  // V8 optimises a function once it has run about this much bytecode (V8 11's default is 66 KB). Eight
  // times the default tiers up the same hot functions a little later and spares the ones that are
  // only warm in a short run: TurboFan's compiles were ~2.3 MB of a small `collect`'s peak (issue
  // #12), and larger runs took less CPU, not more (1,000 logs in one thread: 1.12-1.21 s of CPU
  // against 1.45-1.53 s; on the pool: 1.47-1.63 s against 1.69-1.96 s).
  setFlagsFromString('--interrupt-budget=540672');
  // No baseline (Sparkplug) code: in a start-up-sized run it compiled the warm functions once more
  // for little, 0.5 MB of a small `collect`'s peak (issue #12). The hot ones still reach TurboFan;
  // one 323 MB log took the same CPU (0.68-0.69 s against 0.68 s), 300 logs on the pool too.
  setFlagsFromString('--no-sparkplug');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (isCommand(argv[0]) && !asksForHelp(argv.slice(1))) tuneV8();
  const out = standard(1, () => process.stdout);
  const err = standard(2, () => process.stderr);
  main(argv, {
    out: (s) => out(`${s}\n`),
    // Messages show invisible characters (a BOM in a key, a file name or a log line) as escapes; data on stdout stays as it is.
    err: (s) => err(`${visible(s)}\n`),
    // Asked only by a long collect's progress (not at start: it would build the stream, see standard()).
    get isTTY() {
      return process.stderr.isTTY === true;
    },
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      err(`spark-optimizer: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
