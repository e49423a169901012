/**
 * Where a job's event log is, for Open Event Log. The record does not keep its provenance, and the
 * store has no lookup from an application to the files it was read from (ingested_files holds the
 * mapping, but no JobStore method reads it yet), so this finds it from the record's source: an
 * event-log source's folder, and in it a file or folder whose name holds the application id (Spark
 * names logs `<app id>[_<attempt>][.codec][.inprogress]`, `eventlog_v2_<app id>`, `application_…`).
 */
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { SourceConfig } from '../../collectors/config';
import { codecFromName } from '../../collectors/eventlog/codecs/index';
import type { EventLogInfo, JobKey } from './protocol';

/** How many folder entries the search looks at before giving up (a source folder can hold 100,000 logs). */
const MAX_ENTRIES = 20_000;

/** The folders or files an event-log source reads, absolute; none for other source types. */
export function sourcePaths(config: SourceConfig, configDir: string | undefined): string[] {
  if (config.type !== 'event_log') return [];
  const p = (config as { path: string | string[] }).path;
  return (Array.isArray(p) ? p : [p]).map((x) => (configDir && !path.isAbsolute(x) ? path.resolve(configDir, x) : x));
}

function matches(name: string, key: JobKey): boolean {
  if (!name.includes(key.app_id)) return false;
  if (key.attempt_id === null) return true;
  const rest = name.slice(name.indexOf(key.app_id) + key.app_id.length);
  return rest === '' || rest.startsWith(`_${key.attempt_id}`) || rest.startsWith('.') || !/^_\d/.test(rest);
}

/** Breadth-first through the source's paths for the job's log; a bounded look, never a full walk of a huge tree. */
export async function findEventLog(config: SourceConfig | undefined, configDir: string | undefined, key: JobKey): Promise<EventLogInfo> {
  if (!config) return { path: null, note: 'The source this job came from is not configured in this workspace any more.' };
  const roots = sourcePaths(config, configDir);
  if (roots.length === 0) return { path: null, note: `A ${config.type} source reads an API, not event-log files: there is no log on disk.` };
  let seen = 0;
  const queue = [...roots];
  while (queue.length > 0 && seen < MAX_ENTRIES) {
    const dir = queue.shift()!;
    if (matches(path.basename(dir), key)) return { path: dir, note: 'found by the application id in the source', found: true };
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // a file (a source can name one log), or a folder that is gone
    }
    for (const e of entries) {
      seen++;
      const full = path.join(dir, e.name);
      if (matches(e.name, key)) return { path: full, note: 'found by the application id in the source', found: true };
      if (e.isDirectory()) queue.push(full);
    }
  }
  const first = roots[0]!;
  const exists = await stat(first).then(() => true, () => false);
  return exists
    ? { path: first, note: `no file named after ${key.app_id} was found: this is the source's ${roots.length > 1 ? 'first path' : 'path'}`, found: false }
    : { path: null, note: `the source's path ${first} does not exist` };
}

/** Compressed logs and rolling-log folders are revealed in the Explorer; plain text logs open in the editor. */
export function opensAsText(file: string, isDirectory: boolean): boolean {
  return !isDirectory && codecFromName(file) === 'none';
}

/**
 * What Open Event Log tells the user before it opens `info.path`: undefined when that is the job's
 * log; else that it is not, and what is shown instead (a review: the source's folder was revealed
 * without a word, as if it were the log).
 */
export function notFoundMessage(info: EventLogInfo, appId: string): string | undefined {
  if (info.found !== false || info.path === null) return undefined;
  return `no event log named after ${appId} was found in its source; showing the source's ${path.extname(info.path) === '' ? 'folder' : 'path'} ${info.path} in the Explorer instead.`;
}
