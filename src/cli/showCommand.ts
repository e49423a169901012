/**
 * `spark-optimizer show APP_ID`: one application attempt, its record and its stages and executors
 * (issue 15), and its check against its history as `collect` stored it (issue 18). With several
 * attempts and no `--attempt`, the last one is shown and the others are named on stderr (stdout
 * stays one document).
 */
import { parseArgs } from 'node:util';
import type { SparkAppRecord } from '../collectors/record';
import { stageRan, withStageCpu, type AppSummaries, type StageSummary } from '../collectors/record/summaries';
import { clip, count, formatBytes, formatDuration, oneLine, recordSummary, table, visible } from '../common/format';
import type { StoredRegression } from '../storage/repository';
import type { Store } from '../storage/store';
import { shownRecord, shownRegression } from '../storage/storedSecrets';
import { oneOf, positiveInt, stringFlags, UsageError, type Io } from './io';
import { openExisting } from './database';
import { regressionJson, timeText, type TimeText } from './recordTable';

/** Attempt ids in order: numbers by value ("2" before "10"), none first. */
function byAttempt(a: SparkAppRecord, b: SparkAppRecord): number {
  const x = a.attempt_id ?? '';
  const y = b.attempt_id ?? '';
  const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
  const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
  if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An attempt as notes and errors name it: its id, or '(none)'. */
export function attemptName(r: SparkAppRecord): string {
  return r.attempt_id ?? '(none)';
}

/**
 * The attempt of `appId` to show: `attempt` if given, else the only or the last one (`others` names
 * the rest). Throws an Error (exit 1) naming what exists when there is no such application or attempt.
 */
export function findRun(store: Pick<Store, 'getByAppId' | 'where'>, appId: string, attempt: string | undefined): { record: SparkAppRecord; others: SparkAppRecord[] } {
  const all = store.getByAppId(appId).sort(byAttempt);
  if (all.length === 0) {
    // An event log of an attempt is named APP_ID_ATTEMPT (local-1430917381535_1): the id a user copies from the file name.
    const m = /^(.+)_(\d+)$/.exec(appId);
    const named = m ? store.getByAppId(m[1]!).find((r) => r.attempt_id === m[2]) : undefined;
    const hint = named ? `it holds ${named.app_id} with attempt ${m![2]} (an event log's name is APP_ID_ATTEMPT).` : `\`spark-optimizer jobs --db ${store.where}\` lists what it holds.`;
    throw new Error(`no application ${JSON.stringify(appId)} in ${store.where}; ${hint}`);
  }
  // Shown as a client of today would have stored it: an older one, still writing to a shared database, may not have masked it (storedSecrets.ts).
  if (attempt === undefined) return { record: shownRecord(all[all.length - 1]!), others: all.slice(0, -1) };
  const found = all.find((r) => (r.attempt_id ?? '') === attempt);
  if (!found) throw new Error(`application ${appId} has no attempt ${JSON.stringify(attempt)}; its attempts: ${all.map(attemptName).join(', ')}.`);
  return { record: shownRecord(found), others: [] };
}

/** The stages that cost the most: by duration (unknown last), the first `top`. */
function costliest(stages: readonly StageSummary[], top: number): StageSummary[] {
  return [...stages].sort((x, y) => (y.duration_ms ?? -1) - (x.duration_ms ?? -1) || x.stage_id - y.stage_id || x.attempt_id - y.attempt_id).slice(0, top);
}

function stageTable(stages: readonly StageSummary[]): string {
  return table(
    ['stage', 'attempt', 'status', 'duration', 'cpu', 'tasks', 'failed', 'input', 'shuffle read', 'shuffle write', 'spill (disk)', 'gc', 'task p50', 'task max', 'name'],
    stages.map((s) => {
      // A stage that never ran (skipped) has no figures, not 0 B and 0 ms: '-', as the job page shows it.
      const ran = stageRan(s);
      const figure = (text: string): string => (ran ? text : '-');
      return [
        String(s.stage_id),
        String(s.attempt_id),
        s.status,
        formatDuration(s.duration_ms),
        // '-' where Spark never measured it (before 2.1), as the record's CPU time.
        figure(formatDuration(s.cpu_time_ms)),
        figure(count(s.num_tasks)),
        figure(count(s.failed_tasks)),
        figure(formatBytes(s.input_bytes)),
        figure(formatBytes(s.shuffle_read_bytes)),
        figure(formatBytes(s.shuffle_write_bytes)),
        figure(formatBytes(s.disk_spilled_bytes)),
        figure(formatDuration(s.gc_time_ms)),
        formatDuration(s.task_duration_ms?.p50 ?? null),
        formatDuration(s.task_duration_ms?.max ?? null),
        clip(s.name ?? '-', 60),
      ];
    }),
  );
}

/**
 * A run's check against its history on one line: a steady or regressed run's summary (a regressed
 * run's whole reason is printed below the record), why a run was not checked, or that it never was.
 */
function historyText(check: StoredRegression | null, time: TimeText): string {
  if (check === null) return 'never checked (a run is checked when a collection stores it new or updated)';
  return `${check.status === 'unchecked' ? check.explanation : check.summary} (as of ${time(check.checked_at)})`;
}

/** The text `show` prints: the record's summary and its check against its history, the costliest stages, the executors. */
export function showText(record: SparkAppRecord, summaries: AppSummaries | undefined, top: number, time: TimeText = timeText(false), check: StoredRegression | null = null): string {
  const rows = recordSummary(record, time);
  rows.push(['History', historyText(check, time)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [oneLine(record.app_name ?? record.app_id), '', ...rows.map(([k, v]) => `${k.padEnd(width)}  ${oneLine(v)}`), ''];
  if (check?.status === 'regressed') out.push(oneLine(check.explanation), '');
  if (!summaries) {
    out.push('Stages and executors: not collected for this record (its source could not see them, or it was stored before they were collected).');
    return out.join('\n');
  }
  const { stages, executors } = summaries;
  // Those not complete, by status: the record's stage count leaves skipped ones out, so a reader sees why the numbers differ.
  const notComplete = (['failed', 'active', 'skipped'] as const).flatMap((status) => {
    const n = stages.filter((s) => s.status === status).length;
    return n > 0 ? [`${count(n)} ${status}`] : [];
  });
  const shown = costliest(stages, top);
  out.push(`Stage attempts: ${count(stages.length)}${notComplete.length > 0 ? ` (${notComplete.join(', ')})` : ''}${shown.length < stages.length ? `; the ${shown.length} longest:` : ''}`);
  if (shown.length > 0) out.push(stageTable(shown));
  out.push('', `Executors: ${count(executors.length)}`);
  if (executors.length > 0) {
    out.push(
      table(
        ['executor', 'host', 'cores', 'added', 'removed', 'tasks', 'failed', 'gc', 'shuffle read', 'shuffle write', 'removed because'],
        executors.map((e) => [
          e.executor_id,
          e.host ?? '-',
          count(e.total_cores),
          time(e.add_time),
          time(e.remove_time),
          count(e.total_tasks),
          count(e.failed_tasks),
          formatDuration(e.gc_time_ms),
          formatBytes(e.shuffle_read_bytes),
          formatBytes(e.shuffle_write_bytes),
          clip((e.remove_reason ?? '').replace(/\s+/g, ' '), 60),
        ]),
      ),
    );
  }
  return out.join('\n');
}

export async function showCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...stringFlags('db', 'attempt', 'format', 'top'), utc: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`show takes one application id, got ${positionals.length}`);
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  const top = positiveInt('top', values.top, 10);
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const { record, others } = findRun(store, positionals[0]!, values.attempt);
    if (others.length > 0) io.err(`note: showing attempt ${attemptName(record)} of ${record.app_id}, the last; it also has ${others.map(attemptName).join(', ')} (--attempt N).`);
    // Stage CPU by the rule every source goes by (stored summaries may hold 0 where Spark never measured it).
    const summaries = withStageCpu(record, store.summariesOf(record));
    const stored = store.regressions([record])[0] ?? null;
    const check = stored === null ? null : shownRegression(stored);
    if (format === 'json') io.out(JSON.stringify({ ...record, stages: summaries?.stages ?? [], executors: summaries?.executors ?? [], regression: regressionJson(check) }));
    else io.out(visible(showText(record, summaries, top, timeText(values.utc), check)));
    return 0;
  } finally {
    store.close();
  }
}
