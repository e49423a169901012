/**
 * The lock a save holds on `<db>.lock`, so that two writers (the CLI from cron, the editor) never
 * write the database at once.
 *
 * Taking it: create the file exclusively (O_EXCL) with `{pid, host, at}`. A lock is stale when
 * nobody touched it for two minutes (a holder touches its lock every HEARTBEAT_MS, so a long save is
 * not taken for a dead one), or sooner, on this host, when its pid answers no signal. A live pid alone
 * does not keep an untouched lock: the pid may have been reused (a review: a container's PID 1 held a
 * dead process's lock for ever).
 *
 * Breaking a stale lock is where two writers could both end up holding it: A and B both judge the
 * lock stale; A removes it and creates its own; B, acting on what it saw before, removes A's live lock
 * and creates another. Both then save at once and one side's records are lost (a reviewer lost a
 * record in 6 of 12 trials of three processes). So removing someone else's lock goes through
 * `breakLock`, which holds `<lock>.break` (created exclusively) while it looks at the lock again and
 * unlinks it only if it is still the very file judged stale (same inode, same text, not touched
 * since). That is safe because nothing else can unlink the lock meanwhile (its owner is dead, and every
 * other breaker waits for `.break`) and nothing can create it (it exists). A `.break` whose own holder
 * died is broken the same way, through `<lock>.break.break`.
 *
 * Left open: a holder that stops (SIGSTOP, a suspended VM) for two minutes loses its lock.
 *
 * The same rule (holderGone) judges whether a collection run's process is gone, for a run the store
 * records as unfinished (repository.ts runState): a file store by the file its run holds beside the
 * database (holdFile, heldFileGone), a server by the heartbeat its run writes into its row.
 */
import { closeSync, fstatSync, openSync, readlinkSync, readSync, rmSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { sha1 } from '../common/sha1';

/** A lock untouched this long is taken for dead. */
export const STALE_LOCK_MS = 120_000;
/** How often a holder touches its lock: well inside STALE_LOCK_MS. */
export const HEARTBEAT_MS = 20_000;
/** A lock without its text yet is being written this very moment, or was left half-written by a crash: only the latter gets this old. */
const HALF_WRITTEN_MS = 5_000;

/**
 * This host in the names of what a process leaves where other hosts may look (a save's temp file, a
 * collection's download folder): 8 hex digits of its name's SHA-1, since a host name may be long and a
 * file name may not. A name with another tag is another host's: its pid means nothing here.
 */
export const HOST_TAG = sha1(hostname(), 'hex').slice(0, 8);

/** Who holds a lock (or runs a collection): a process on a host. */
export interface Holder {
  pid: number;
  host: string;
}

interface LockInfo extends Holder {
  at: number;
  /** The holder's pid namespace (PID_NS), where it could tell; older versions do not write it. */
  ns?: string;
}

/**
 * This process's pid namespace (Linux: the link /proc/self/ns/pid, `pid:[4026531836]`), null where it
 * cannot be read. Containers may share a host name and not their pids: to a process in another
 * namespace a live holder's pid answers no signal, and its lock (its run's file) was taken for dead.
 */
const PID_NS: string | null = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
})();

/** This process's lock text: who holds it, since when. */
const lockText = (): string => JSON.stringify({ ...thisHolder(), at: Date.now(), ...(PID_NS === null ? {} : { ns: PID_NS }) } satisfies LockInfo);

/**
 * The most of a lock (or held file) read: a holder's text is `{pid, host, at, ns}`, a few hundred
 * bytes with the longest host name (253). A longer file is no holder's, and is not read whole (a file that
 * only has a holder's name beside a database may be anything, of any size).
 */
const HOLDER_TEXT_MAX = 512;

/** A lock file as read through one descriptor: its inode, last touch, size and (first HOLDER_TEXT_MAX bytes of) text belong together. */
interface Seen {
  ino: number;
  mtimeMs: number;
  size: number;
  text: string;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function look(file: string): Promise<Seen | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = await fh.stat();
    const buf = Buffer.alloc(HOLDER_TEXT_MAX);
    const { bytesRead } = await fh.read(buf, 0, HOLDER_TEXT_MAX, 0);
    return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, text: buf.toString('utf8', 0, bytesRead) };
  } finally {
    await fh.close();
  }
}

const sameFile = (a: Seen, b: Seen): boolean => a.ino === b.ino && a.text === b.text && a.mtimeMs === b.mtimeMs && a.size === b.size;

function parse(text: string): LockInfo | null {
  try {
    const info = JSON.parse(text) as unknown;
    if (typeof info !== 'object' || info === null) return null;
    const { pid, host, at, ns } = info as Partial<Record<keyof LockInfo, unknown>>;
    if (typeof pid !== 'number' || typeof host !== 'string') return null;
    return { pid, host, at: typeof at === 'number' ? at : NaN, ...(typeof ns === 'string' ? { ns } : {}) };
  } catch {
    return null;
  }
}

/**
 * Whether `holder`, last heard of `untouchedMs` ago, is gone. Untouched for two minutes is dead on
 * any host: every holder touches its lock (its run, its row) every HEARTBEAT_MS. On this host a gone
 * pid says so sooner; a live one may be another process that reused a dead holder's pid (a
 * container's PID 1 after a restart), which alone would block every save (show a run going) for good.
 */
export function holderGone(holder: Holder & { ns?: string }, untouchedMs: number): boolean {
  if (!(untouchedMs <= STALE_LOCK_MS)) return true;
  // A holder that names another pid namespace of this host name is judged as another host's: by its touches.
  const pidsShared = holder.ns === undefined || PID_NS === null || holder.ns === PID_NS;
  return holder.host === hostname() && pidsShared && !pidAlive(holder.pid);
}

function isStale(seen: Seen): boolean {
  const age = Date.now() - seen.mtimeMs;
  const info = parse(seen.text);
  if (info === null) return age > HALF_WRITTEN_MS;
  return holderGone(info, age);
}

/** Creates `file` exclusively with this process's lock text; null when it exists. Other errors are thrown as they are. */
async function create(file: string): Promise<Seen | null> {
  let fh;
  try {
    fh = await open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  const text = lockText();
  try {
    await fh.writeFile(text);
    const st = await fh.stat();
    await fh.close();
    return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, text };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(file, { force: true });
    throw err;
  }
}

/** Removes `file` only if it still is `seen`; true when it did. See the header for why this is race-free. */
async function breakLock(file: string, seen: Seen): Promise<boolean> {
  const guard = `${file}.break`;
  if ((await create(guard)) === null) {
    // Another process is breaking it now (it takes milliseconds), or died doing so.
    const other = await look(guard);
    if (other !== null && isStale(other)) await breakLock(guard, other);
    return false;
  }
  try {
    const now = await look(file);
    if (now === null || !sameFile(now, seen)) return false;
    await rm(file, { force: true });
    return true;
  } finally {
    // Ours, alive: nobody else removes it.
    await rm(guard, { force: true });
  }
}

export class LockTimeout extends Error {}

/**
 * Takes `lockPath`, waiting up to `timeoutMs` for a live holder (LockTimeout, naming it, after that).
 * Errors creating the file other than "it exists" (EACCES, ENOSPC) are thrown as they are. Returns
 * the release.
 */
export async function acquireLock(lockPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const mine = await create(lockPath);
    if (mine !== null) {
      const heartbeat = setInterval(() => {
        try {
          // Gone or not ours: another host took it for dead, and it is not taken back.
          touch(lockPath, mine);
        } catch {
          // not writable now: touched at the next beat
        }
      }, HEARTBEAT_MS);
      heartbeat.unref();
      return async () => {
        clearInterval(heartbeat);
        // Ours unless another host took it for dead: then it is theirs now, and stays.
        const now = await look(lockPath).catch(() => null);
        if (now !== null && now.ino === mine.ino && now.text === mine.text) await rm(lockPath, { force: true });
      };
    }
    const holder = await look(lockPath);
    if (holder === null) continue; // released meanwhile
    if (isStale(holder) && (await breakLock(lockPath, holder))) continue;
    if (Date.now() > deadline) {
      const info = parse(holder.text);
      const who = info ? `process ${info.pid} on ${info.host}` : 'another process';
      throw new LockTimeout(`locked by ${who} (${lockPath}); gave up after ${Math.round(timeoutMs / 1000)} s. Try again when it finishes.`);
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** This process, as a lock (or a run's row) names it. */
export function thisHolder(): Holder {
  return { pid: process.pid, host: hostname() };
}

/**
 * A holder's touch: writes the first byte of its text again into `file` if it is still the one it
 * created (`mine`), so that its time is set by the file system (a shared folder's server), not by this
 * host's clock as utimes(now) would; then readers on every host compare it with one clock's times. A
 * file there that is not `mine` is left as it is. Errors other than ENOENT are thrown.
 */
function touch(file: string, mine: { ino: number; text: string } | null): 'touched' | 'gone' | 'not mine' {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    if (mine === null || fstatSync(fd).ino !== mine.ino) return 'not mine';
    writeSync(fd, mine.text.slice(0, 1), 0);
    return 'touched';
  } finally {
    closeSync(fd);
  }
}

/** A file held by this process (holdFile). */
export interface HeldFile {
  /** Stops holding it, and removes it if it is still the one this process created. */
  readonly release: () => void;
  /** Why it could not be created at first (null when it was): it is tried again at each heartbeat. */
  readonly failed: Error | null;
}

/**
 * Holds `file` as a lock's holder holds its lock: creates it exclusively with this process's lock text,
 * then every HEARTBEAT_MS writes a byte of it again, so that its time is set by the file system (a
 * shared folder's server: the clock every reader's file is set by) rather than by this host's clock
 * through utimes (a reader's clock two minutes ahead took it for dead at every open). When it is gone,
 * removed by a reader that took it for dead (this event loop stalled past STALE_LOCK_MS, clocks apart,
 * a host of the same name in another pid namespace), or never created, it is created again: one
 * removal no longer shows the run interrupted everywhere else until it ends. A file of that name not
 * created by this hold is left as it is. Synchronous: a run is recorded by a synchronous call, and its
 * file must be there before any save holds its row.
 */
export function holdFile(file: string): HeldFile {
  let mine: { ino: number; text: string } | null = null;
  const create = (): void => {
    const text = lockText();
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, text);
      mine = { ino: fstatSync(fd).ino, text };
    } catch (err) {
      closeSync(fd);
      rmSync(file, { force: true });
      throw err;
    }
    closeSync(fd);
  };
  // Gone, or never created and what is in its way left by a holder that is gone: held again. Any other
  // error (EEXIST: created meanwhile, ENOSPC): tried again at the next beat.
  const beat = (): void => {
    const touched = touch(file, mine);
    if (touched === 'gone' || (touched === 'not mine' && mine === null && removeIfHolderGone(file))) create();
  };
  let failed: Error | null = null;
  try {
    create();
  } catch (err) {
    failed = err as Error;
  }
  const heartbeat = setInterval(() => {
    try {
      beat();
    } catch {
      // not writable now: tried again at the next beat; meanwhile readers judge it by its last touch
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    failed,
    release: () => {
      clearInterval(heartbeat);
      try {
        const now = lookSync(file);
        if (now !== null && mine !== null && now.ino === mine.ino && now.text === mine.text) rmSync(file, { force: true });
      } catch {
        // unreadable or not removable now: left for heldFileGone to judge (its heartbeat has stopped)
      }
    },
  };
}

/** `file` read as look() reads it, synchronously; null when it is not there. Other errors are thrown. */
function lookSync(file: string): Seen | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(HOLDER_TEXT_MAX);
    const bytesRead = readSync(fd, buf, 0, HOLDER_TEXT_MAX, 0);
    return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, text: buf.toString('utf8', 0, bytesRead) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the process holding `file` (holdFile) is gone, by the lock's rule: a file that is not there
 * has no holder. One that cannot be read (EACCES) says nothing, so its holder is not taken for gone.
 */
export function heldFileGone(file: string): boolean {
  let seen: Seen | null;
  try {
    seen = lookSync(file);
  } catch {
    return false;
  }
  return seen === null || isStale(seen);
}

/**
 * Removes `file` if it is what a holder that is gone left (holdFile): its holder's text, its holder
 * gone by the lock's rule, or empty (a process killed between creating and writing it) and older than
 * HALF_WRITTEN_MS. A file whose text is no holder's is not one (a file a user named so, a copy) and is
 * left, as is one that cannot be read. Removes it only if it is still the file judged (a holder that
 * creates it again meanwhile keeps its new one). True when it did.
 */
export function removeIfHolderGone(file: string): boolean {
  try {
    const seen = lookSync(file);
    if (seen === null) return false;
    const gone = parse(seen.text) !== null ? isStale(seen) : seen.size === 0 && Date.now() - seen.mtimeMs > HALF_WRITTEN_MS;
    if (!gone) return false;
    const now = lookSync(file);
    if (now === null || !sameFile(now, seen)) return false;
    rmSync(file, { force: true });
    return true;
  } catch {
    // unreadable, or not removable here (a folder this reader may not write): left for a writer
    return false;
  }
}
