/**
 * `mode: eventlog`: the most exact History Server path. Each attempt's event log is downloaded from
 * `/applications/{id}[/{attempt}]/logs` (a zip) into a temporary folder, streamed to disk, unpacked
 * entry by entry (also streamed), and read by the event-log engine, so the record is exactly what
 * the event-log collector gives for the same log.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { collectAll } from '../eventlog/collect';
import type { CollectedApp } from '../eventlog/collect';
import type { Problem } from '../record';
import type { HistoryServerClient } from './client';

/** Unpacks `zip` into `into`, one entry at a time; entries escaping the folder are refused. */
async function unzip(zip: string, into: string): Promise<number> {
  const archive = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(zip, { lazyEntries: true, autoClose: true }, (err, z) => (err ? reject(err) : resolve(z))));
  let files = 0;
  await new Promise<void>((resolve, reject) => {
    archive.on('error', reject);
    archive.on('end', () => resolve());
    archive.on('entry', (entry: yauzl.Entry) => {
      const target = path.resolve(into, entry.fileName);
      if (!target.startsWith(into + path.sep)) {
        reject(new Error(`zip entry ${JSON.stringify(entry.fileName)} points outside the archive`));
        return;
      }
      if (entry.fileName.endsWith('/')) {
        archive.readEntry();
        return;
      }
      archive.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        mkdir(path.dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target)))
          .then(() => {
            files++;
            archive.readEntry();
          }, reject);
      });
    });
    archive.readEntry();
  });
  return files;
}

export async function fetchAttemptLog(client: HistoryServerClient, base: string, source: string, signal: AbortSignal | undefined): Promise<CollectedApp> {
  const where = client.urlOf(`${base}/logs`);
  const dir = await mkdtemp(path.join(tmpdir(), 'spark-opt-hs-'));
  try {
    const zip = path.join(dir, 'logs.zip');
    await client.download(`${base}/logs`, zip, signal);
    const logs = path.join(dir, 'logs');
    await mkdir(logs);
    const files = await unzip(zip, logs);
    const result = await collectAll({ path: logs, source, concurrency: 1 }, { signal });
    // Problems name the entry inside the server's zip, not our temporary copy.
    const relocate = (p: Problem): Problem => (p.file?.startsWith(logs) ? { ...p, file: `${where}!${p.file.slice(logs.length)}` } : p);
    const app = result.apps[0];
    if (!app || result.apps.length > 1) {
      throw new Error(`${where}: expected one application attempt in the downloaded log, found ${result.apps.length} (${files} files)${result.problems.length > 0 ? `: ${result.problems.map((p) => p.message).join('; ')}` : ''}`);
    }
    const unit = { ...app.unit, path: where, files: [] };
    return { record: { ...app.record, tags: { ...app.record.tags, origin: 'history_server' } }, problems: [...app.problems, ...result.problems].map(relocate), files: [], unit };
  } finally {
    // Also when the download failed or the run was cancelled: the folder holds a copy of the log.
    await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
  }
}
