/**
 * `spark-optimizer` command line, on the same core as the extension.
 * Exit codes: 0 = ran (problems are reported, not fatal), 1 = fatal (bad path, unreadable config or
 * database, nothing readable), 2 = usage error, 3 = `collect --fail-on-regression` stored runs that
 * regressed against their history (issue 18; only when nothing else failed, else 1), 128 + N = a
 * collect stopped by signal N.
 */
import { writeSync } from 'node:fs';
import { visible } from '../common/format';
import { version } from '../../package.json';
import { UsageError, type Io } from './io';
import { COMMANDS, asksForHelp, isCommand, type Command } from './commands';
// Loading it sets nothing up: SQLite is instantiated by loadSqlJs, when a database opens.
import { compileSqlJs } from '../storage/sqlJs';

/** The help texts, built from the source registry: loaded only when shown (issue #12: start-up). */
async function usage(): Promise<typeof import('./usage')> {
  return import('./usage.js');
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

// Run as the CLI: the bundle of this file (dist/cliMain.js) is run by dist/cli.js (launcher.ts), which
// hands it its own `module` and has set the V8 flags of the run (v8Flags.ts).
if (require.main === module) {
  const argv = process.argv.slice(2);
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
