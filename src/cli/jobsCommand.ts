/** `spark-optimizer jobs` and `spark-optimizer runs`: what the workspace database holds. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { STATUSES, sparkAppRecordSchema, type SparkAppRecord } from '../collectors/record';
import { JobStore } from '../storage/jobStore';
import { FieldError, fieldByName, parseCondition, type FieldCondition } from '../storage/fields';
import { formatBytes, formatDuration, table } from '../common/format';
import { DEFAULT_DB, oneOf, parseDate, positiveInt, stringFlags, UsageError, type Io } from './io';

const FIELDS = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];

export async function openExisting(db: string | undefined, io: Io): Promise<JobStore | null> {
  const file = path.resolve(io.cwd, db ?? DEFAULT_DB);
  if (!existsSync(file)) {
    io.err(`spark-optimizer: no database at ${file} yet; run \`spark-optimizer collect\` first (or pass --db).`);
    return null;
  }
  const store = await JobStore.open(file);
  for (const w of store.warnings) io.err(`warning: ${w}`);
  return store;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function jobsCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...stringFlags('db', 'user', 'name', 'since', 'until', 'status', 'source', 'sort', 'limit', 'offset', 'format'),
      where: { type: 'string', multiple: true },
      asc: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const format = oneOf('format', values.format, ['table', 'json', 'csv'] as const, 'table');
  const status = values.status === undefined ? undefined : oneOf('status', values.status, STATUSES, 'completed');
  const sortField = values.sort === undefined ? undefined : fieldByName(values.sort);
  if (values.sort !== undefined && !sortField) throw new UsageError(`--sort takes a record field, got ${JSON.stringify(values.sort)} (spark-optimizer jobs --help lists them)`);
  const sort = sortField?.column ?? 'end_time';
  let where: FieldCondition[];
  try {
    where = (values.where ?? []).map(parseCondition);
  } catch (err) {
    if (err instanceof FieldError) throw new UsageError(`--where: ${err.message}`);
    throw err;
  }
  const limit = positiveInt('limit', values.limit, 100);
  const offset = values.offset === undefined ? 0 : positiveInt('offset', values.offset, 0);
  const since = parseDate('since', values.since)?.toISOString();
  const until = parseDate('until', values.until)?.toISOString();
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const query = { user: values.user, name: values.name, status, source: values.source, since, until, where };
    const records = store.list({ ...query, sort, descending: !values.asc, limit, offset });
    if (format === 'json') for (const r of records) io.out(JSON.stringify(r));
    else if (format === 'csv') {
      io.out(FIELDS.join(','));
      for (const r of records) io.out(FIELDS.map((f) => csvCell(r[f])).join(','));
    } else {
      const total = store.count(query);
      if (records.length > 0) {
        io.out(
          table(
            ['app_id', 'attempt', 'name', 'user', 'status', 'end', 'duration', 'tasks', 'failed', 'cpu', 'shuffle read', 'source'],
            records.map((r) => [
              r.app_id,
              r.attempt_id ?? '-',
              (r.app_name ?? '-').slice(0, 40),
              r.user ?? '-',
              r.status,
              r.end_time?.slice(0, 19).replace('T', ' ') ?? '-',
              formatDuration(r.duration_ms),
              String(r.total_tasks),
              String(r.failed_tasks),
              formatDuration(r.cpu_time_ms),
              formatBytes(r.shuffle_read_bytes),
              r.source,
            ]),
          ),
        );
      }
      io.out(`${records.length} of ${total} applications${offset > 0 ? ` (from ${offset})` : ''}`);
    }
    return 0;
  } finally {
    store.close();
  }
}

export async function runsCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { db: { type: 'string' }, limit: { type: 'string' }, format: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const format = oneOf('format', values.format, ['table', 'json'] as const, 'table');
  const limit = positiveInt('limit', values.limit, 20);
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const runs = store.listRuns(limit);
    if (format === 'json') for (const r of runs) io.out(JSON.stringify(r));
    else {
      io.out(
        table(
          ['started', 'source', 'finished', 'seen', 'new', 'updated', 'unchanged', 'skipped', 'failed', 'errors'],
          runs.map((r) => [
            r.started.slice(0, 19).replace('T', ' '),
            r.source,
            r.finished?.slice(0, 19).replace('T', ' ') ?? 'unfinished',
            String(r.seen),
            String(r.new),
            String(r.updated),
            String(r.unchanged),
            String(r.skipped),
            String(r.failed),
            String(r.errors.length),
          ]),
        ),
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
