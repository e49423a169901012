/** Hover texts: an event-log line in words with units, a config key with what it does and its default. Pure. */
import { KEY_DOCS, keyDefault } from '../collectors/config';
import { isoTime } from '../collectors/record';
import { formatBytes, formatDuration } from '../common/format';

/** A config key in words with its default, when the cursor is on the key (hover). */
export function describeConfigKey(line: string, character: number): string | undefined {
  const m = /^(\s*(?:-\s+)?)([A-Za-z_]+)\s*:/.exec(line);
  if (!m || character < m[1]!.length || character > m[1]!.length + m[2]!.length) return undefined;
  const key = m[2]!;
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
  if (type === 'SparkListenerTaskEnd') {
    const tm = o(e['Task Metrics']);
    const info = o(e['Task Info']);
    return [
      `**Task ${n(info['Task ID'])} of stage ${n(e['Stage ID'])}** ended: ${t(o(e['Task End Reason']).Reason)}`,
      `Executor ${t(info['Executor ID'])} · run ${formatDuration(n(tm['Executor Run Time']))} · CPU ${formatDuration(Math.floor(n(tm['Executor CPU Time']) / 1e6))}`,
      `Input ${formatBytes(n(o(tm['Input Metrics'])['Bytes Read']))} · output ${formatBytes(n(o(tm['Output Metrics'])['Bytes Written']))}`,
      `Shuffle read ${formatBytes(n(o(tm['Shuffle Read Metrics'])['Remote Bytes Read']) + n(o(tm['Shuffle Read Metrics'])['Local Bytes Read']))} · write ${formatBytes(n(o(tm['Shuffle Write Metrics'])['Shuffle Bytes Written']))}`,
      `Spilled ${formatBytes(n(tm['Memory Bytes Spilled']))} memory, ${formatBytes(n(tm['Disk Bytes Spilled']))} disk`,
    ].join('  \n');
  }
  if (type === 'SparkListenerApplicationStart') return `**Application start**: ${t(e['App Name'])} (${t(e['App ID'])}) by ${t(e.User)} at ${at(e.Timestamp)}`;
  if (type === 'SparkListenerApplicationEnd') return `**Application end** at ${at(e.Timestamp)}`;
  if (type === 'SparkListenerExecutorAdded') return `**Executor ${t(e['Executor ID'])} added** with ${n(o(e['Executor Info'])['Total Cores'])} cores`;
  return `**${type}**`;
}
