/** `spark-optimizer --help`: each source type's usage line and credentials come from its descriptor (registry.ts). */
import { STATUSES } from '../collectors/record/status';
import { DESCRIPTORS } from '../collectors/registry';
import { fieldsHelp, OPERATORS } from '../storage/fields';
import { UNENDED_RUN } from '../storage/runState';
import { COMMANDS, type Command } from './commands';
import { JSON_FIELDS, TABLE_ROWS } from './recordTable';

/** `words` after `lead`, wrapped at `width` columns with continuation lines indented by `indent`. */
function wrapped(lead: string, words: string, indent: number, width = 104): string {
  const lines: string[] = [];
  let line = lead;
  for (const word of words.split(/ (?=\[|--|\(|[A-Za-z])/)) {
    if (line.length + 1 + word.length > width && line.trim() !== lead.trim()) {
      lines.push(line);
      line = ' '.repeat(indent);
    } else if (line.length > 0 && !line.endsWith(' ')) line += ' ';
    line += word;
  }
  return [...lines, line].join('\n');
}

/** The states of a run without an end, as runs shows them (runState.ts UNENDED_RUN). */
const unendedRuns = Object.values(UNENDED_RUN)
  .map((s) => `${s.word} (${s.gist})`)
  .join(', ')
  .replace(/, ([^,]*)$/, ', or $1');
const collectLines = DESCRIPTORS.map((d) => wrapped(`  spark-optimizer collect --source ${d.cliNames[0]!}`, `${d.usage} [options]`, 26)).join('\n');
const narrowLines = DESCRIPTORS.map((d) => wrapped(`  ${d.cliNames[0]!.padEnd(15)} `, d.narrows, 18)).join('\n');
const credentialLines = DESCRIPTORS.filter((d) => d.credentials !== undefined)
  .map((d) => wrapped(`  ${d.cliNames[0]!.padEnd(15)} `, d.credentials!, 18))
  .join('\n');

/** Each command's synopsis, as its help and the whole usage show it. */
const SYNOPSIS: Readonly<Record<Command, string>> = {
  collect: `${collectLines}
  spark-optimizer collect --config spark-optimizer.yaml [--name SOURCE] [options]
  spark-optimizer collect --event-log-dir DIR [options]   (event logs: the same as --source event-logs --path DIR)`,
  jobs: `  spark-optimizer jobs [--user U] [--name TEXT] [--since D] [--until D] [--status S] [--source S]
                       [--where "FIELD OP VALUE"]... [--regressed] [--sort FIELD] [--asc] [--limit N]
                       [--offset N] [--format table|json|csv] [--utc] [--db PATH]   (fields: jobs --help)`,
  show: `  spark-optimizer show APP_ID [--attempt N] [--top N] [--format text|json] [--utc] [--db PATH]
                       (the record, its longest stages and its executors; JSON: the record's keys
                       plus "stages", "executors" and "regression". Without --attempt: the last attempt)`,
  compare: `  spark-optimizer compare A B [--attempt-a N] [--attempt-b N] [--top N] [--format text|json] [--utc] [--db PATH]
  spark-optimizer compare B --previous [--attempt-a N] ...   (B against A, the last earlier run of its name)
                       (B against A: metric changes, stages aligned by name, else by stage id,
                       and the Spark properties that differ)`,
  runs: `  spark-optimizer runs [--limit N] [--format table|json] [--utc] [--db PATH]
                       (the collection runs, newest first: what each read, its counts and errors;
${wrapped(' '.repeat(23), `one without an end is ${unendedRuns})`, 23)}`,
  validate: `  spark-optimizer validate PATH... [--format text|json] [--min-severity S] [--verbose] [--no-recursive]
                        [--zstd-max-window-mb N] [--max-line-mb N] [--max-decompression-ratio N]
                        (event logs and collector configs; exit 1 on errors)`,
  db: `  spark-optimizer db copy --from DB --to DB [--batch-size N]
                       (every record with its stages, executors and regression checks, the known files
                       and the collection runs, a page at a time; idempotent: run again to finish or refresh)`,
};

const TIMES = `  --utc            times in UTC (default: the local zone); each time says its zone`;

/** What `--format json` prints where a command lists rows: one JSON object a line. */
const JSON_LINES = 'json: one JSON object per line (JSON lines)';

const COLLECT_OPTIONS = `collect options:
${wrapped('  --source TYPE         ', DESCRIPTORS.map((d) => `${d.cliNames[0]!} (${d.title})`).join(', '), 24)}
  --path PATH           event logs: a log file or a folder (walked recursively unless --no-recursive);
                        plain, .gz, .lz4, .lzf, .snappy, .zstd; single files, rolling eventlog_v2_*,
                        Databricks and Spark 1.x folders. Without --source, --path (or --event-log-dir
                        DIR) means --source event-logs
  --config FILE         collect the sources a config file defines (all, or --name SOURCE)
  --db PATH|URL         the database: a file (default .spark-optimizer/jobs.db in this folder), sqlite:///path,
                        or a team's PostgreSQL: postgres://USER@HOST:5432/DB?sslmode=require&sslrootcert=ca.pem
                        (its password from PGPASSWORD or ~/.pgpass, never the URL; sslmode disable, prefer
                        (the default), require, verify-ca or verify-full). Every command takes --db
  --dry-run             collect and print; store nothing (and check nothing against history)
  --fail-on-regression  exit 3 when a run this collection stored, or whose history it completed, regressed
                        (for CI and cron; 1 still wins when something failed). Every run stored new or
                        updated is checked against the median of the earlier completed runs of its name
                        and source (default: flagged at 1.5x and 1 min / 1 GiB more; a source's
                        regression: keys in a config file change that); collect's last line names them
  --since DATE          only applications that ended (running ones: started) at/after DATE (ISO-8601)
  --user USER           only applications run by USER
  --shard K/N           only the K-th of N shares (1 <= K <= N), so that N runs (cron jobs on N hosts)
                        split one archive or listing with no overlap and no gap. Event logs are split by
                        their path relative to --path (a rolling or Spark 1.x folder as one), API sources
                        by what they list: History Server application id, Databricks run id, Dataproc
                        job id, EMR cluster id. The share is the first 8 bytes of SHA-1 of that text,
                        mod N; a log keeps its share as others are added. The run says e.g.
                        "shard 2/4: 1,234 of 4,901 logs"; the others' logs are not read nor remembered
  --batch-size N        records per database batch (default 100)
  --concurrency N       logs read at once (default: the number of cores)
  --format table|json   table: every application read (by default the first ${TABLE_ROWS}, and how many more);
                        json: JSON lines on stdout, one record per application attempt, plus "problems"
  --utc                 times in UTC (default: the local zone); each time says its zone
  --max-apps N          at most N applications (History Server) or steps/runs/jobs (cloud sources)
  --endpoint-url URL    cloud sources: another API endpoint (VPC endpoint, proxy, emulator)
  --verbose             list each file a folder scan passed over (hidden, not an event log), not just counts
  --no-recursive        read only what is directly in --path (a rolling log's eventlog_v2_ folder too): other
                        subfolders are passed over, and counted

Limits of collect (validate takes the first three); each is also a source's key in a config file
(--max-line-mb is max_line_mb), and a flag wins over the file:
  --zstd-max-window-mb N  largest zstd window to decode, in MiB (default 128, at most 1024)
  --max-line-mb N         longest event-log line read, in MiB (default 32, at most 512); a longer one is skipped
  --max-decompression-ratio N
                          most decompressed bytes per compressed byte of a log, past its first 16 MiB
                          (default 1000, 2 to 1000000); a log over it is stopped as a decompression bomb
  --max-response-mb N     largest REST answer read, in MiB (default 256, at most 4096): History Server,
                          Databricks, Dataproc; History Server lists are read entry by entry: an
                          entry may be as large, and a list keeps at most a quarter of it
  --max-unpacked-mb N     History Server --mode eventlog: most one attempt's log zip may unpack to, in MiB
                          (default 65536, i.e. 64 GiB)
  --max-unpack-ratio N    History Server --mode eventlog: most bytes unpacked per byte of a zip that
                          unpacks to over 64 MiB (default 200)
  The event-log limits also hold for the logs History Server --mode eventlog downloads.

--since and --user: every application read is judged by the same rule; before reading, each source narrows:
${narrowLines}

Credentials are read the platform's own way, never from flags:
${credentialLines}
`;

/** `spark-optimizer --help`: every command, then collect's options (the command with the most). */
export const USAGE = `Usage:
${COMMANDS.map((c) => SYNOPSIS[c]).join('\n')}
  spark-optimizer --version
  spark-optimizer COMMAND --help   (that command's usage alone)
  SPARK_OPTIMIZER_COMPILE_CACHE=DIR   where each command keeps V8's compiled code for its next runs
                       (default ~/.cache/spark-optimizer; 0: none)

${COLLECT_OPTIONS}`;

/** `spark-optimizer jobs --help`: the flags, then every field --sort and --where take, by its names. */
const JOBS_USAGE = `Usage:
${SYNOPSIS.jobs}

  --sort FIELD     sort by any field below (newest/largest first, unknown last; --asc for the other way);
                   default end_time
  --where COND     FIELD OP VALUE, OP one of ${OPERATORS.join(' ')}; several --where must all hold.
                   Values in the field's units: --where "failed>0" --where "duration>=1h30m"
                   --where "spill>1GB" --where "user=etl"; FIELD=null / FIELD!=null for unknown values
  --name TEXT      part of the application name (any case)
  --regressed      only runs whose stored check says they regressed against their earlier runs (checked
                   when collect stores them), with its summary; json: each record plus "regression"
                   (status, summary, explanation, metrics, changes, likely_cause, baseline_runs, checked_at)
  --since/--until  ended (running ones: started) at/after, before this date
  --status S       ${STATUSES.join(', ')}
  --source S       a source's name as collect stored it (event_log, or a config file's name)
  --limit N        at most N applications (default 100); --offset N skips the first N
  --format F       table (default); csv, or ${JSON_LINES}, with every field
${TIMES}

Fields (the column name, or any other name listed):
${fieldsHelp()}
  ${JSON_FIELDS.join(', ')}: JSON, printed by --format json and csv; neither sorted nor compared
`;

const VALIDATE_USAGE = `Usage:
${SYNOPSIS.validate}

  --format text|json    text: file:line:col: severity code message (1-based), findings of the same code on
                        the same line as one; json: one object per finding (file, line, column, severity,
                        code, message)
  --min-severity S      the least severe findings shown: error, warning (the default), information or hint;
                        the summary counts those not shown
  --verbose             list each file a folder scan passed over (hidden, not an event log), not just counts
  --zstd-max-window-mb N, --max-line-mb N, --max-decompression-ratio N
                        the limits logs are read with, as collect's (spark-optimizer collect --help)
`;

/** One command's help: \`spark-optimizer COMMAND --help\`. */
export function commandUsage(command: Command): string {
  switch (command) {
    case 'collect':
      return `Usage:\n${SYNOPSIS.collect}\n\n${COLLECT_OPTIONS}`;
    case 'jobs':
      return JOBS_USAGE;
    case 'validate':
      return VALIDATE_USAGE;
    case 'runs':
      return `Usage:\n${SYNOPSIS.runs}\n\n  --limit N        the newest N runs (default 20)\n  --format F       table (default) or ${JSON_LINES}\n${TIMES}\n`;
    case 'show':
      return `Usage:\n${SYNOPSIS.show}\n\n  --top N          the N longest stage attempts in text (default 10); JSON has all of them\n${TIMES}\n`;
    case 'compare':
      return `Usage:\n${SYNOPSIS.compare}\n\n  --top N          every stage when N or fewer, else the N whose duration changed most (default 10); JSON has all\n${TIMES}\n`;
    case 'db':
      return `Usage:\n${SYNOPSIS.db}\n\n  --from, --to     a database file, sqlite:///path or postgres://USER@HOST:PORT/DB URL (collect --help)\n  --batch-size N   records per page (default 500)\n`;
  }
}
