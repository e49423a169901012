/**
 * `spark-optimizer` command line, on the same core as the extension.
 * Exit codes: 0 = ran (problems are reported, not fatal), 1 = fatal (bad path, unreadable config or
 * database, nothing readable), 2 = usage error.
 */
import { setFlagsFromString } from 'node:v8';
import { visible } from '../common/format';
import { UsageError, type Io } from './io';

const USAGE = `Usage:
  spark-optimizer collect --source event-logs --path PATH [options]
  spark-optimizer collect --source history-server --url URL [--mode api|eventlog] [--status S]
                          [--max-apps N] [options]
  spark-optimizer collect --source emr [--region R] [--profile P] [--cluster-id ID]... [--no-cloudwatch]
                          [--event-log-dir s3://B/P] [--history-server-url URL] [options]
  spark-optimizer collect --source databricks [--host URL] [--event-log-dir dbfs:/P] [options]
  spark-optimizer collect --source dataproc [--project P] [--region R] [--history-server-url URL] [options]
  spark-optimizer collect --config spark-optimizer.yaml [--name SOURCE] [options]
  spark-optimizer jobs [--user U] [--name TEXT] [--since D] [--until D] [--status S] [--source S]
                       [--sort FIELD] [--asc] [--limit N] [--offset N] [--format table|json|csv] [--db PATH]
  spark-optimizer runs [--limit N] [--format table|json] [--db PATH]
  spark-optimizer validate PATH... [--format text|json] [--verbose] [--zstd-max-window-mb N]
                        [--max-line-mb N] [--max-decompression-ratio N]
                        (event logs and collector configs; exit 1 on errors)

collect options:
  --source event-logs   Spark event-log files and folders (plain, .gz, .lz4, .lzf, .snappy, .zstd;
                        single files, rolling eventlog_v2_*, Databricks and Spark 1.x folders)
  --path PATH           a log file or a folder (walked recursively unless --no-recursive)
  --config FILE         collect the sources a config file defines (all, or --name SOURCE)
  --db PATH             the database (default .spark-optimizer/jobs.db in this folder)
  --dry-run             collect and print; store nothing
  --since DATE          only applications that ended (running ones: started) at/after DATE (ISO-8601)
  --user USER           only applications run by USER
  --batch-size N        records per database batch (default 100)
  --concurrency N       logs read at once (default: the number of cores)
  --format json         JSON lines on stdout, one record per application attempt, plus "problems"
  --max-apps N          at most N applications (History Server) or steps/runs/jobs (cloud sources)
  --endpoint-url URL    cloud sources: another API endpoint (VPC endpoint, proxy, emulator)
  --verbose             list each file a folder scan passed over (hidden, not an event log), not just counts

Limits of collect (validate takes the first three); each is also a source's key in a config file
(--max-line-mb is max_line_mb), and a flag wins over the file:
  --zstd-max-window-mb N  largest zstd window to decode, in MiB (default 128, at most 1024)
  --max-line-mb N         longest event-log line read, in MiB (default 32, at most 512); a longer one is skipped
  --max-decompression-ratio N
                          most decompressed bytes per compressed byte of a log, past its first 16 MiB
                          (default 1000, 2 to 1000000); a log over it is stopped as a decompression bomb
  --max-response-mb N     largest REST answer read, in MiB (default 256, at most 4096): History Server,
                          Databricks, Dataproc
  --max-unpacked-mb N     History Server --mode eventlog: most one attempt's log zip may unpack to, in MiB
                          (default 65536, i.e. 64 GiB)
  --max-unpack-ratio N    History Server --mode eventlog: most bytes unpacked per byte of a zip that
                          unpacks to over 64 MiB (default 200)
  The event-log limits also hold for the logs History Server --mode eventlog downloads.

Credentials are read the platform's own way, never from flags:
  History Server  SPARK_OPTIMIZER_HISTORY_SERVER_TOKEN, or _USERNAME and _PASSWORD
  emr             the AWS default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
                  AWS_PROFILE or --profile (shared config and credentials files, SSO), instance metadata
  databricks      DATABRICKS_HOST and DATABRICKS_TOKEN, a ~/.databrickscfg profile (DATABRICKS_CONFIG_PROFILE),
                  or OAuth M2M: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET
  dataproc        GOOGLE_OAUTH_ACCESS_TOKEN, or Application Default Credentials
                  (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, metadata server)
`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command's modules (zod schemas, yaml, sql.js) are set up when it runs (issue #12: start-up).
      case 'collect':
        return await (await import('./collectCommand.js')).collectCommand(rest, io);
      case 'jobs':
        return await (await import('./jobsCommand.js')).jobsCommand(rest, io);
      case 'runs':
        return await (await import('./jobsCommand.js')).runsCommand(rest, io);
      case 'validate':
        return await (await import('./validateCommand.js')).validateCommand(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    // `code` is not always a string: a DOMException's (an AbortError's) is a number.
    const code: unknown = (err as { code?: unknown } | null)?.code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`spark-optimizer: ${(err as Error).message}\n\n${USAGE}`);
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
