/**
 * `spark-optimizer` command line, on the same core as the extension.
 * Exit codes: 0 = ran (problems are reported, not fatal), 1 = fatal (bad path, unreadable config or
 * database, nothing readable), 2 = usage error.
 */
import { setFlagsFromString } from 'node:v8';
import { visible } from '../common/format';
import { UsageError, type Io } from './io';

/** The help text, built from the source registry: loaded only when shown (issue #12: start-up). */
async function usage(): Promise<string> {
  return (await import('./usage.js')).USAGE;
}


export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
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
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(await usage());
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    // `code` is not always a string: a DOMException's (an AbortError's) is a number.
    const code: unknown = (err as { code?: unknown } | null)?.code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`spark-optimizer: ${(err as Error).message}\n\n${await usage()}`);
      return 2;
    }
    io.err(`spark-optimizer: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  // SQLite's WebAssembly runs on V8's baseline compiler only: opening a database made V8 tier its
  // large functions up to the optimizing compiler, and its compiles and tier-up state cost `jobs`
  // ~35 MB and a fresh-database `collect` 80 -> 66 MB (issue #12), for a few percent of speed in
  // long runs. Set here, not in the storage code: V8 flags hold for the whole process, and the
  // extension host is shared with other extensions.
  setFlagsFromString('--no-wasm-tier-up');
  setFlagsFromString('--no-wasm-dynamic-tiering');
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    // Messages show invisible characters (a BOM in a key, a file name or a log line) as escapes; data on stdout stays as it is.
    err: (s) => process.stderr.write(`${visible(s)}\n`),
    isTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`spark-optimizer: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
