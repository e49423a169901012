/** Hover texts: an event-log line in words with units, a config key with what it does and its default. Pure. */
import { KEY_DOCS, keyDefault } from '../collectors/config';
import { isoTime } from '../collectors/record';
import { formatBytes, formatDuration } from '../common/format';

/** A config key in words with its default, when the cursor is on the key (hover). */
export function describeConfigKey(line: string, character: number): string | undefined {
  // A key may have digits (`s3_endpoint_url`) and be quoted (`"max_line_mb":`), as YAML allows.
  const m = /^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*|"[A-Za-z0-9_]+"|'[A-Za-z0-9_]+')\s*:/.exec(line);
  if (!m || character < m[1]!.length || character > m[1]!.length + m[2]!.length) return undefined;
  const key = m[2]!.replace(/^["']|["']$/g, '');
  const doc = KEY_DOCS[key];
  if (!doc) return undefined;
  const def = keyDefault(key);
  return `**${key}**: ${doc}${def === undefined ? '' : `\n\nDefault: \`${JSON.stringify(def)}\``}`;
}

/** An event line in words, with units (hover). */
export function describeEvent(line: string): string | undefined {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const type = typeof e.Event === 'string' ? e.Event : undefined;
  if (!type) return undefined;
  const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const t = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');
  // A timestamp outside the record's range (year 9999, negative, fractional) is shown as written.
  const at = (v: unknown): string => isoTime(n(v)) ?? `${t(v)} (not a valid time)`;
  const between = (from: unknown, to: unknown): string => (typeof from === 'number' && typeof to === 'number' ? ` (${formatDuration(Math.max(0, to - from))})` : '');
  const count = (v: unknown, one: string): string => `${n(v)} ${n(v) === 1 ? one : `${one}s`}`;
  const stage = (info: Record<string, unknown>): string => `Stage ${t(info['Stage ID'])}${n(info['Stage Attempt ID']) > 0 ? ` (attempt ${n(info['Stage Attempt ID'])})` : ''}`;
  switch (type) {
    case 'SparkListenerTaskEnd': {
      const tm = o(e['Task Metrics']);
      const info = o(e['Task Info']);
      // Spark before 2.1 never measured CPU time: say so rather than show a measured-looking 0.
      const cpu = typeof tm['Executor CPU Time'] === 'number' ? formatDuration(Math.floor(tm['Executor CPU Time'] / 1e6)) : 'not measured';
      return [
        `**Task ${n(info['Task ID'])} of stage ${n(e['Stage ID'])}** ended: ${t(o(e['Task End Reason']).Reason)}`,
        `Executor ${t(info['Executor ID'])} · run ${formatDuration(n(tm['Executor Run Time']))} · CPU ${cpu} · GC ${formatDuration(n(tm['JVM GC Time']))}`,
        `Input ${formatBytes(n(o(tm['Input Metrics'])['Bytes Read']))} · output ${formatBytes(n(o(tm['Output Metrics'])['Bytes Written']))}`,
        `Shuffle read ${formatBytes(n(o(tm['Shuffle Read Metrics'])['Remote Bytes Read']) + n(o(tm['Shuffle Read Metrics'])['Local Bytes Read']))} · write ${formatBytes(n(o(tm['Shuffle Write Metrics'])['Shuffle Bytes Written']))}`,
        `Spilled ${formatBytes(n(tm['Memory Bytes Spilled']))} memory, ${formatBytes(n(tm['Disk Bytes Spilled']))} disk`,
      ].join('  \n');
    }
    case 'SparkListenerTaskStart': {
      const info = o(e['Task Info']);
      return `**Task ${t(info['Task ID'])} of stage ${t(e['Stage ID'])}** started on executor ${t(info['Executor ID'])} (${t(info.Host)}) at ${at(info['Launch Time'])}`;
    }
    case 'SparkListenerStageSubmitted': {
      const info = o(e['Stage Info']);
      return `**${stage(info)} submitted**: ${t(info['Stage Name'])}  \n${count(info['Number of Tasks'], 'task')}${typeof info['Submission Time'] === 'number' ? ` · at ${at(info['Submission Time'])}` : ''}`;
    }
    case 'SparkListenerStageCompleted': {
      const info = o(e['Stage Info']);
      const failed = typeof info['Failure Reason'] === 'string' ? `failed: ${info['Failure Reason'].split('\n')[0]}` : 'completed';
      return `**${stage(info)} ${failed}**: ${t(info['Stage Name'])}  \n${count(info['Number of Tasks'], 'task')} · submitted ${at(info['Submission Time'])} · done ${at(info['Completion Time'])}${between(info['Submission Time'], info['Completion Time'])}`;
    }
    case 'SparkListenerJobStart': {
      const stages = Array.isArray(e['Stage IDs']) ? e['Stage IDs'] : [];
      return `**Job ${t(e['Job ID'])} started** at ${at(e['Submission Time'])} with ${count(stages.length, 'stage')}${stages.length > 0 ? ` (${stages.slice(0, 10).map(t).join(', ')}${stages.length > 10 ? ', …' : ''})` : ''}`;
    }
    case 'SparkListenerJobEnd':
      return `**Job ${t(e['Job ID'])} ended**: ${t(o(e['Job Result']).Result)} at ${at(e['Completion Time'])}`;
    case 'SparkListenerApplicationStart':
      return `**Application start**: ${t(e['App Name'])} (${t(e['App ID'])}) by ${t(e.User)} at ${at(e.Timestamp)}`;
    case 'SparkListenerApplicationEnd':
      return `**Application end** at ${at(e.Timestamp)}`;
    case 'SparkListenerExecutorAdded': {
      const info = o(e['Executor Info']);
      return `**Executor ${t(e['Executor ID'])} added** on ${t(info.Host)} with ${count(info['Total Cores'], 'core')} at ${at(e.Timestamp)}`;
    }
    case 'SparkListenerExecutorRemoved':
      return `**Executor ${t(e['Executor ID'])} removed** at ${at(e.Timestamp)}: ${t(e['Removed Reason'])}`;
    case 'SparkListenerEnvironmentUpdate': {
      // Spark writes the properties as an object, or as [key, value] pairs.
      const raw = e['Spark Properties'];
      const pairs: [string, unknown][] = Array.isArray(raw) ? raw.filter(Array.isArray).map((p: unknown[]) => [String(p[0]), p[1]]) : Object.entries(o(raw));
      const value = (k: string): string => {
        const hit = pairs.find(([key]) => key === k);
        return hit ? t(hit[1]) : '-';
      };
      return [
        `**Environment**: ${count(pairs.length, 'Spark property')}`,
        `master ${value('spark.master')} · executor memory ${value('spark.executor.memory')} · cores ${value('spark.executor.cores')} · instances ${value('spark.executor.instances')}`,
        `dynamic allocation ${value('spark.dynamicAllocation.enabled')} · shuffle partitions ${value('spark.sql.shuffle.partitions')}`,
      ].join('  \n');
    }
    case 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart': {
      const description = t(e.description).split('\n')[0]!;
      return `**SQL execution ${t(e.executionId)} started** at ${at(e.time)}: ${description.length > 120 ? `${description.slice(0, 120)}…` : description}`;
    }
    case 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd':
      return `**SQL execution ${t(e.executionId)} ended** at ${at(e.time)}${typeof e.errorMessage === 'string' && e.errorMessage !== '' ? `: failed: ${e.errorMessage.split('\n')[0]}` : ''}`;
  }
  return `**${type}**`;
}
