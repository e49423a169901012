/**
 * The download folders of the History Server (mode eventlog), EMR and Databricks collectors
 * (downloadFolders.ts): each names its owner (pid and host tag), its owner touches it, and a
 * collection's first folder removes those whose owner is gone by fileLock.ts's rule (holderGone),
 * never a live one's, another host's still touched, another user's, or anything through a symlink.
 * The collectors themselves, killed for real: killedDownloads.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DownloadFolders, removeLeftDownloads } from '../src/collectors/downloadFolders';
import { HEARTBEAT_MS, HOST_TAG, STALE_LOCK_MS, pidAlive } from '../src/storage/fileLock';
import { ownTempRoot, tempDir } from './support/tmp';

const inRoot = ownTempRoot('spark-op');

/** The pid of a process that has exited (a short child waited for). */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

/** A folder `name` in `root` holding a file, last touched `agoMs` ago. */
function folder(root: string, name: string, agoMs = 0): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'logs.zip'), 'downloaded');
  const at = new Date(Date.now() - agoMs);
  utimesSync(dir, at, at);
  return dir;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a download folder', () => {
  it('names its owner (prefix, pid, host tag), is touched every HEARTBEAT_MS while held, and goes with remove', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const made = await new DownloadFolders('emr').make();
    expect(path.dirname(made.path)).toBe(tmpdir());
    expect(path.basename(made.path)).toMatch(new RegExp(`^spark-optimizer-emr-${process.pid}-${HOST_TAG}-[A-Za-z0-9]{6}$`));
    // Writing a large file into it does not change the folder's own time: only the heartbeat does.
    const old = new Date(Date.now() - STALE_LOCK_MS);
    utimesSync(made.path, old, old);
    vi.advanceTimersByTime(HEARTBEAT_MS);
    await vi.waitFor(() => expect(statSync(made.path).mtimeMs).toBeGreaterThan(Date.now() - HEARTBEAT_MS));
    await made.remove();
    expect(existsSync(made.path)).toBe(false);
    vi.advanceTimersByTime(HEARTBEAT_MS);
  });

  it("each collector's has its own prefix", async () => {
    const names = [];
    for (const kind of ['historyServer', 'emr', 'databricks'] as const) {
      const made = await new DownloadFolders(kind).make();
      names.push(path.basename(made.path).replace(/-\d+-[0-9a-f]{8}-[A-Za-z0-9]{6}$/, '-'));
      await made.remove();
    }
    expect(names).toEqual(['spark-opt-hs-', 'spark-optimizer-emr-', 'spark-opt-dbfs-']);
  });
});

describe('what collections that are gone left in the temp folder', () => {
  it('goes when its owner is gone by the lock rule; a live or still touched one, and what is not ours, stays', async () => {
    const root = tempDir();
    const dead = deadPid();
    const silent = STALE_LOCK_MS + 60_000;
    const elsewhere = HOST_TAG === 'ffffffff' ? 'eeeeeeee' : 'ffffffff';
    const outside = tempDir();
    writeFileSync(path.join(outside, 'keep'), 'not the temp folder');
    const gone = {
      deadHere: folder(root, `spark-opt-hs-${dead}-${HOST_TAG}-aaaaaa`),
      // A live pid that has not touched its folder for two minutes is another process that took a dead one's pid (a container's PID 1).
      pidReused: folder(root, `spark-optimizer-emr-${process.pid}-${HOST_TAG}-bbbbbb`, silent),
      elsewhereSilent: folder(root, `spark-opt-dbfs-${dead}-${elsewhere}-cccccc`, silent),
    };
    // Removing it removes the link inside, never what the link points at.
    symlinkSync(outside, path.join(gone.deadHere, 'link'));
    const kept = {
      liveHere: folder(root, `spark-opt-dbfs-${process.pid}-${HOST_TAG}-dddddd`),
      liveHereLastBeat: folder(root, `spark-opt-hs-${process.pid}-${HOST_TAG}-eeeeee`, STALE_LOCK_MS - 10_000),
      // Another host's pid means nothing here: it goes only once silent.
      elsewhereGoing: folder(root, `spark-opt-hs-${dead}-${elsewhere}-ffffff`, HEARTBEAT_MS),
      // Named as older versions named it (no owner), or by someone else: not judged.
      olderVersion: folder(root, 'spark-opt-hs-Ab12Cd', silent),
      notOurs: folder(root, `spark-opt-${dead}-${HOST_TAG}-gggggg`, silent),
      longerName: folder(root, `spark-opt-hs-${dead}-${HOST_TAG}-hhhhhh-x`, silent),
    };
    // Not a folder: a file or a symlink with a folder's name (the link points out of the temp folder).
    const file = path.join(root, `spark-opt-hs-${dead}-${HOST_TAG}-iiiiii`);
    writeFileSync(file, 'x');
    const link = path.join(root, `spark-opt-hs-${dead}-${HOST_TAG}-jjjjjj`);
    symlinkSync(outside, link);

    const removed = await removeLeftDownloads(root);
    expect(removed.sort()).toEqual(Object.values(gone).map((d) => path.basename(d)).sort());
    expect(readdirSync(root).sort()).toEqual([...Object.values(kept), file, link].map((d) => path.basename(d)).sort());
    for (const d of Object.values(kept)) expect(readdirSync(d)).toEqual(['logs.zip']);
    expect(readdirSync(outside)).toEqual(['keep']);
  });

  it("a collection's first folder removes them, in the temp folder it downloads into; later ones do not look again", async () => {
    const left = folder(tmpdir(), `spark-opt-dbfs-${deadPid()}-${HOST_TAG}-kkkkkk`);
    const folders = new DownloadFolders('historyServer');
    const first = await folders.make();
    expect(existsSync(left)).toBe(false);
    const later = folder(tmpdir(), `spark-opt-dbfs-${deadPid()}-${HOST_TAG}-llllll`);
    const second = await folders.make();
    expect(existsSync(later)).toBe(true);
    // Another collection of this process has its own: the first one's, going, stays.
    const other = await new DownloadFolders('databricks').make();
    expect(inRoot().sort()).toEqual([first.path, second.path, other.path].map((d) => path.basename(d)).sort());
    for (const f of [first, second, other]) await f.remove();
  });

  it('an unreadable temp folder is nothing to remove', async () => {
    expect(await removeLeftDownloads(path.join(tempDir(), 'missing'))).toEqual([]);
  });
});
