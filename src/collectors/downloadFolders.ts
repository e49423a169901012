/**
 * The folders in the OS temp folder that collections download logs into (History Server mode
 * eventlog's zips, EMR's S3 copies, Databricks' DBFS copies), and what killed collections left there.
 *
 * A collection removes its folders in a `finally`, which a SIGKILL (an out-of-memory kill, a closed
 * editor) never runs: the folder, possibly gigabytes of logs, stayed for ever. So a folder names its
 * owner, `<prefix><pid>-<host tag>-<random>` (the host tag of fileLock.ts, as a save's temp file
 * has), its owner touches it every HEARTBEAT_MS as a lock's holder does, and the first folder a
 * collection makes removes, first, those whose owner is gone by fileLock.ts's rule (holderGone): on
 * this host at once once its pid answers no signal, on any host once untouched for STALE_LOCK_MS.
 * A folder of a live collection, here or on a host sharing the temp folder, is never removed.
 *
 * Only what this module names is judged: a folder (not a symlink: lstat) of this user with such a
 * name. The removal does not follow symlinks inside it (rm unlinks a link, never its target).
 * Folders named before the owner was (`spark-opt-hs-XXXXXX`) say nothing of it and are left alone.
 */
import { lstat, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { HEARTBEAT_MS, HOST_TAG, holderGone } from '../storage/fileLock';

/** Each collector's folder name starts so (the names older versions used, so that a user knows them). */
export const DOWNLOAD_PREFIX = {
  historyServer: 'spark-opt-hs-',
  emr: 'spark-optimizer-emr-',
  databricks: 'spark-opt-dbfs-',
} as const;

export type DownloadKind = keyof typeof DOWNLOAD_PREFIX;

/** `<prefix><pid>-<host tag>-` and mkdtemp's six characters. */
const OWNED = new RegExp(`^(?:${Object.values(DOWNLOAD_PREFIX).join('|')})(\\d+)-([0-9a-f]{8})-[A-Za-z0-9]{6}$`);

/** One download folder of this process. */
export interface DownloadFolder {
  readonly path: string;
  /** Stops its heartbeat and removes it with what it holds; rejects as rm does. */
  remove(): Promise<void>;
}

/**
 * Removes the download folders in `root` (the temp folder) whose owner is gone; a folder that cannot
 * be looked at or removed (another user's, a race with another sweeper) is passed over. Returns the
 * names removed.
 */
export async function removeLeftDownloads(root = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (m === null) continue;
    const full = path.join(root, name);
    const st = await lstat(full).catch(() => null);
    if (st === null || !st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    const tag = m[2]!;
    // Another host's pid means nothing here: only its silence says it is gone.
    const holder = { pid: Number(m[1]), host: tag === HOST_TAG ? hostname() : `another host (${tag})` };
    if (!holderGone(holder, Date.now() - st.mtimeMs)) continue;
    try {
      await rm(full, { recursive: true, force: true, maxRetries: 2 });
      removed.push(name);
    } catch {
      // left for the next collection
    }
  }
  return removed;
}

/**
 * The download folders of one collection: `make` gives a new one, removing first (once per
 * collection) what collections that are gone left.
 */
export class DownloadFolders {
  private swept: Promise<unknown> | undefined;

  constructor(private readonly kind: DownloadKind) {}

  async make(): Promise<DownloadFolder> {
    await (this.swept ??= removeLeftDownloads());
    const dir = await mkdtemp(path.join(tmpdir(), `${DOWNLOAD_PREFIX[this.kind]}${process.pid}-${HOST_TAG}-`));
    // A folder's time changes only when an entry is added or removed, not while a large file is written.
    const heartbeat = setInterval(() => {
      const now = new Date();
      void utimes(dir, now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    return {
      path: dir,
      remove: async () => {
        clearInterval(heartbeat);
        await rm(dir, { recursive: true, force: true, maxRetries: 2 });
      },
    };
  }
}
