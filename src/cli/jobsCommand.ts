/** `spark-optimizer jobs` and `spark-optimizer runs`: what the workspace database holds. */
import { parseArgs } from 'node:util';
import { STATUSES, sparkAppRecordSchema, type SparkAppRecord } from '../collectors/record';
import { FieldError, fieldByName, parseCondition, type FieldCondition } from '../storage/fields';
import { count, plural, table, visible } from '../common/format';
import { oneOf, parseDate, positiveInt, stringFlags, UsageError, type Io } from './io';
import { JSON_FIELDS, RECORD_HEADER, recordRow, regressionJson, timeText } from './recordTable';
import { whatRunRead, withoutSecrets } from './runRead';
import { openExisting } from './database';
import type { Store } from '../storage/store';
import { runStateWord } from '../storage/runState';
import { maskJsonStrings, shownRecords, shownRegression } from '../storage/storedSecrets';

const FIELDS = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];


/** A CSV field; on a terminal with what a terminal would obey shown escaped (visible), as in the table; in a file or pipe, as stored. */
function csvCell(v: unknown, terminal: boolean): string {
  const raw = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const s = terminal ? visible(raw) : raw;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `--source S` as the store names sources: S itself, or the one stored name that reads the same up
 * to case, dashes and a plural s (`collect --source event-logs` stores its runs as `event_log`; the
 * registry's names are not loaded here, for `jobs`'s start-up). A name the store does not hold is an
 * error listing those it does: an empty table would read as "no jobs".
 */
function storedSource(store: Pick<Store, 'groupCounts' | 'where'>, raw: string): string {
  const stored = store.groupCounts('source').map((g) => g.key);
  if (stored.includes(raw)) return raw;
  const loose = (name: string): string => name.toLowerCase().replace(/-/g, '_').replace(/s$/, '');
  const alike = stored.filter((name) => loose(name) === loose(raw));
  if (alike.length === 1) return alike[0]!;
  throw new Error(`no source named ${JSON.stringify(raw)} in ${store.where}; its sources: ${stored.length > 0 ? stored.join(', ') : 'none yet'}`);
}

export async function jobsCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...stringFlags('db', 'user', 'name', 'since', 'until', 'status', 'source', 'sort', 'limit', 'offset', 'format'),
      where: { type: 'string', multiple: true },
      asc: { type: 'boolean', default: false },
      utc: { type: 'boolean', default: false },
      regressed: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const format = oneOf('format', values.format, ['table', 'json', 'csv'] as const, 'table');
  const regressed = values.regressed;
  const status = values.status === undefined ? undefined : oneOf('status', values.status, STATUSES, 'completed');
  const sortField = values.sort === undefined ? undefined : fieldByName(values.sort);
  if (values.sort !== undefined && !sortField) {
    const json = JSON_FIELDS.find((f) => f === values.sort!.trim().toLowerCase());
    if (json !== undefined) throw new UsageError(`--sort ${values.sort}: ${json} holds JSON and cannot be sorted by; --format json or csv prints it (spark-optimizer jobs --help lists the fields)`);
    throw new UsageError(`--sort takes a record field, got ${JSON.stringify(values.sort)} (spark-optimizer jobs --help lists them)`);
  }
  const sort = sortField?.column ?? 'end_time';
  let where: FieldCondition[];
  try {
    where = (values.where ?? []).map(parseCondition);
  } catch (err) {
    if (err instanceof FieldError) throw new UsageError(`--where: ${err.message}`);
    throw err;
  }
  // A status is one of a few words, as --status takes them: another matches no run, and an empty list would read as "none".
  for (const c of where) {
    if (c.field === 'status' && typeof c.value === 'string' && !(STATUSES as readonly string[]).includes(c.value)) {
      throw new UsageError(`--where: status takes one of ${STATUSES.join(', ')}, got ${JSON.stringify(c.value)}`);
    }
  }
  const limit = positiveInt('limit', values.limit, 100);
  const offset = positiveInt('offset', values.offset, 0, 0);
  const since = parseDate('since', values.since)?.toISOString();
  const until = parseDate('until', values.until)?.toISOString();
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const source = values.source === undefined ? undefined : storedSource(store, values.source);
    const query = { user: values.user, name: values.name, status, source, since, until, where, ...(regressed ? { regressed: true } : {}) };
    const records = store.list({ ...query, sort, descending: !values.asc, limit, offset });
    // With --regressed, each run's stored check (issue 18): one read for the page.
    const checks = regressed ? store.regressions(records).map((c) => (c === null ? null : shownRegression(c))) : [];
    // JSON prints each record's environment and tags: masked (storedSecrets.ts), the table and CSV print neither.
    if (format === 'json') shownRecords(records).forEach((r, i) => io.out(JSON.stringify(regressed ? { ...r, regression: regressionJson(checks[i] ?? null) } : r)));
    else if (format === 'csv') {
      io.out([...FIELDS, ...(regressed ? ['regression'] : [])].join(','));
      records.forEach((r, i) => io.out([...FIELDS.map((f) => csvCell(r[f], io.isTTY)), ...(regressed ? [csvCell(checks[i]?.summary, io.isTTY)] : [])].join(',')));
    } else {
      const total = store.count(query);
      const time = timeText(values.utc);
      const header = regressed ? [...RECORD_HEADER, 'regression'] : RECORD_HEADER;
      if (records.length > 0) io.out(table(header, records.map((r, i) => (regressed ? [...recordRow(r, time), checks[i]?.summary ?? '-'] : recordRow(r, time)))));
      io.out(`${records.length} of ${plural(total, regressed ? 'regressed application' : 'application')}${offset > 0 ? ` (from ${offset})` : ''}`);
      if (regressed && total === 0) io.out('Runs are checked against their earlier runs when `spark-optimizer collect` stores them.');
    }
    return 0;
  } finally {
    store.close();
  }
}

export async function runsCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...stringFlags('db', 'limit', 'format'), utc: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  const format = oneOf('format', values.format, ['table', 'json'] as const, 'table');
  const limit = positiveInt('limit', values.limit, 20);
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const runs = store.listRuns(limit);
    // Errors and options masked as shown (storedSecrets.ts): an older client sharing the database may have stored them unmasked.
    if (format === 'json') for (const r of runs) io.out(JSON.stringify({ ...r, options: withoutSecrets(maskJsonStrings(r.options)), errors: maskJsonStrings(r.errors) }));
    // A table of headers alone reads as a broken command; jobs says "0 of 0 applications" the same way.
    else if (runs.length === 0) io.out(`0 collection runs in ${store.where}`);
    else {
      const time = timeText(values.utc);
      io.out(
        table(
          ['started', 'source', 'read', 'finished', 'seen', 'new', 'updated', 'unchanged', 'skipped', 'failed', 'errors'],
          runs.map((r) => [
            time(r.started),
            r.source,
            whatRunRead(r),
            // A run without an end says whether it still goes (runState.ts UNENDED_RUN).
            r.finished === null ? runStateWord(r.state) : time(r.finished),
            count(r.seen),
            count(r.new),
            count(r.updated),
            count(r.unchanged),
            count(r.skipped),
            count(r.failed),
            count(r.errors.length),
          ]),
        ),
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
