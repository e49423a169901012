/**
 * `mode: eventlog`: the most exact History Server path. Each attempt's event log is downloaded from
 * `/applications/{id}[/{attempt}]/logs` (a zip) into a temporary folder, streamed to disk, unpacked
 * entry by entry (also streamed), and read by the event-log engine, so the record is exactly what
 * the event-log collector gives for the same log.
 *
 * A zip is a promise about sizes, so it is checked before anything is unpacked (issue 13: a 23 MB
 * zip from /logs wrote 5.17 GB to the temp folder): the sizes its directory declares, their total
 * against a limit and against the zip's own size (a ratio), and the free space of the temp folder.
 * yauzl holds each entry to its declared size while unpacking, so the checks hold for the bytes too.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, statfs } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { collectAll } from '../eventlog/collect';
import { apiProvenance, type CollectedApp } from '../contract';
import { DownloadFolders } from '../downloadFolders';
import type { ReadLimits } from '../eventlog/readLog';
import type { Problem } from '../record';
import { formatBytes } from '../../common/format';
import { ResponseError, ResponseTooLargeError } from '../http/jsonClient';
import { MAX_UNPACKED_MB, MAX_UNPACK_RATIO } from '../http/limits';
import type { HistoryServerClient } from './client';

export interface UnpackLimits {
  /** Most bytes one attempt's zip may unpack to (default 64 GiB); the zip download is held to it too. */
  maxUnpackedBytes?: number;
  /** Most bytes unpacked per byte of zip (default 200), for zips that unpack to more than 64 MiB. */
  maxUnpackRatio?: number;
}

/** Far above real event logs: a log of many GB is still read; Spark's event logs deflate 5-15 to 1. */
export const DEFAULT_MAX_UNPACKED_BYTES = MAX_UNPACKED_MB.default * 2 ** 20;
export const DEFAULT_MAX_UNPACK_RATIO = MAX_UNPACK_RATIO.default;
/**
 * Where a user raises the limits (MiB, and a plain ratio), named in the problems. Not the codecs'
 * max_decompression_ratio: its default of 1000 is about deflate's own ceiling (1032 to 1), so on a
 * zip it would never fire.
 */
export const MAX_UNPACKED_SETTING = 'max_unpacked_mb (config) or --max-unpacked-mb (CLI)';
export const MAX_UNPACK_RATIO_SETTING = 'max_unpack_ratio (config) or --max-unpack-ratio (CLI)';
/** Below this, a zip is never refused for its ratio: a small log of repeated lines may deflate far. */
const RATIO_FLOOR = 64 * 1024 * 1024;
/** Left free on the temp folder's disk after unpacking. */
const FREE_SPACE_RESERVE = 512 * 1024 * 1024;
/** A rolling log is a few hundred files; more than this is not an event log. */
const MAX_ENTRIES = 10_000;

/** The zip is refused for what it would unpack to; nothing of it was written. */
export class UnpackRefusedError extends ResponseError {
  constructor(message: string, where: string) {
    super(`${where}: ${message}`, where);
    this.name = 'UnpackRefusedError';
  }
}

/** Bytes free for us on the disk that holds `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

function openZip(zip: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(zip, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))));
}

/**
 * Why a downloaded `/logs` answer is not a zip, in words that tell a sign-in page (a proxy in front of
 * the server answering 200 with HTML) from a zip cut off on the way; yauzl says "not a zip file, or
 * file is truncated" to both.
 */
async function notAZip(zip: string, zipBytes: number, err: Error, where: string): Promise<ResponseError> {
  if (zipBytes === 0) return new ResponseError(`${where}: the server answered with 0 bytes, not a zip of the event log`, where);
  const fh = await open(zip, 'r');
  let head: string;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
    head = buffer.subarray(0, bytesRead).toString('latin1').trimStart().toLowerCase();
  } finally {
    await fh.close();
  }
  if (head.startsWith('<')) {
    return new ResponseError(`${where}: the server answered with a web page, not a zip of the event log: a sign-in page or a proxy in front of the History Server? Check the URL and the credentials`, where);
  }
  return new ResponseError(`${where}: the downloaded zip (${zipBytes} bytes) is damaged or cut off (${err.message})`, where);
}

/** Every entry of the zip's central directory, read without unpacking anything. */
function entriesOf(archive: yauzl.ZipFile, into: string): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  return new Promise((resolve, reject) => {
    archive.on('error', reject);
    archive.on('end', () => resolve(entries));
    archive.on('entry', (entry: yauzl.Entry) => {
      const target = path.resolve(into, entry.fileName);
      if (!target.startsWith(into + path.sep)) {
        reject(new Error(`zip entry ${JSON.stringify(entry.fileName)} points outside the archive`));
        return;
      }
      if (entries.length >= MAX_ENTRIES) {
        reject(new Error(`the zip holds more than ${MAX_ENTRIES} entries; an event log has far fewer`));
        return;
      }
      entries.push(entry);
      archive.readEntry();
    });
    archive.readEntry();
  });
}

/** Refuses what the entries would unpack to, before anything is written (the free space: TempSpace); returns it. */
function checkUnpack(entries: yauzl.Entry[], zipBytes: number, limits: Required<UnpackLimits>, where: string): number {
  const total = entries.reduce((t, e) => t + e.uncompressedSize, 0);
  if (total > limits.maxUnpackedBytes) {
    throw new UnpackRefusedError(`the event log would unpack to ${formatBytes(total)}, over the ${formatBytes(limits.maxUnpackedBytes)} limit, so it was not unpacked; raise ${MAX_UNPACKED_SETTING} to read it`, where);
  }
  const ratio = total / Math.max(1, zipBytes);
  if (total > RATIO_FLOOR && ratio > limits.maxUnpackRatio) {
    throw new UnpackRefusedError(
      `the event log would unpack to ${formatBytes(total)} from a ${formatBytes(zipBytes)} zip (${Math.round(ratio)} to 1), over the limit of ${limits.maxUnpackRatio} to 1, so it was not unpacked; raise ${MAX_UNPACK_RATIO_SETTING} to read it`,
      where,
    );
  }
  return total;
}

/**
 * One run's use of the temp disk: its attempts' download folders (downloadFolders.ts: the run's first
 * one removes what killed runs left), and the space they have been promised (mode eventlog reads
 * `concurrency` at once): each unpack checked the disk for itself alone, so attempts downloaded
 * together each saw room for their own log and together wrote past FREE_SPACE_RESERVE (a review). An
 * unpack that does not fit beside the others' promises waits for them to end; it is refused only
 * when it does not fit alone. Conservative: what the others already wrote counts twice (on the disk
 * and in their promise) until they end.
 */
export class TempSpace {
  readonly folders = new DownloadFolders('historyServer');
  private promised = 0;
  private readonly waiting = new Set<() => void>();

  /**
   * Waits until `bytes` fit on the disk of `dir` beside the reserve and the others' promises, and
   * promises them; throws `tooLarge(free)` when they do not fit with no other promise. Returns the
   * release, to call once what was written is removed.
   */
  async promise(bytes: number, dir: string, tooLarge: (free: number) => Error, signal: AbortSignal | undefined): Promise<() => void> {
    for (;;) {
      signal?.throwIfAborted();
      const free = await freeBytes(dir);
      if (bytes + FREE_SPACE_RESERVE + this.promised <= free) break;
      if (this.promised === 0) throw tooLarge(free);
      await new Promise<void>((resolve, reject) => {
        const abort = (): void => {
          this.waiting.delete(wake);
          reject(signal!.reason as Error);
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', abort);
          resolve();
        };
        this.waiting.add(wake);
        signal?.addEventListener('abort', abort, { once: true });
      });
    }
    this.promised += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.promised -= bytes;
      const woken = [...this.waiting];
      this.waiting.clear();
      for (const wake of woken) wake();
    };
  }
}

/**
 * Unpacks `zip` into `into`, one entry at a time, after checking it (above); entries escaping the
 * folder are refused. Returns how many files it wrote. A cancelled run stops it at once (an entry
 * part written, the rest not begun): a large log's zip takes minutes to unpack.
 */
async function unzip(zip: string, zipBytes: number, into: string, limits: Required<UnpackLimits>, where: string, signal: AbortSignal | undefined, space: TempSpace, releases: (() => void)[]): Promise<number> {
  const archive = await openZip(zip).catch(async (err: Error) => {
    throw await notAZip(zip, zipBytes, err, where);
  });
  try {
    const entries = await entriesOf(archive, into);
    const total = checkUnpack(entries, zipBytes, limits, where);
    releases.push(
      await space.promise(
        total,
        into,
        (free) => new Error(`${where}: unpacking needs ${formatBytes(total)} and ${into} has ${formatBytes(free)} free (${formatBytes(FREE_SPACE_RESERVE)} is kept free); not unpacked`),
        signal,
      ),
    );
    let files = 0;
    for (const entry of entries) {
      signal?.throwIfAborted();
      if (entry.fileName.endsWith('/')) continue;
      const target = path.resolve(into, entry.fileName);
      await mkdir(path.dirname(target), { recursive: true });
      // Piped as soon as it is open: the entry starts inflating at once, and a damaged one's zlib
      // error, emitted with no listener yet (during an await), was uncaught (found by the fuzz suite).
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => archive.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
      await pipeline(stream, createWriteStream(target), signal ? { signal } : {}).catch((err: NodeJS.ErrnoException) => {
        if (signal?.aborted) throw signal.reason as Error;
        // A write that failed (a full disk) is this machine's, not the answer's: zlib's errors have no syscall.
        if (err.syscall !== undefined) throw new Error(`${where}: writing ${JSON.stringify(entry.fileName)} to the temp folder ${into} failed: ${err.message}`);
        throw new ResponseError(`${where}: ${JSON.stringify(entry.fileName)} in the downloaded zip could not be unpacked (${err.message})`, where);
      });
      files++;
    }
    return files;
  } finally {
    archive.close();
  }
}

/** What `fetchAttemptLog` holds a download to: the zip's limits, and those the event-log engine reads the unpacked log with. */
export type AttemptLogLimits = UnpackLimits & ReadLimits;

/** `space`: the run's temp disk (TempSpace): its download folders, and what its other attempts were promised; a run's own by default. */
export async function fetchAttemptLog(
  client: HistoryServerClient,
  base: string,
  source: string,
  signal: AbortSignal | undefined,
  limits: AttemptLogLimits = {},
  space = new TempSpace(),
): Promise<CollectedApp> {
  const where = client.urlOf(`${base}/logs`);
  const all: Required<UnpackLimits> = { maxUnpackedBytes: limits.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES, maxUnpackRatio: limits.maxUnpackRatio ?? DEFAULT_MAX_UNPACK_RATIO };
  const folder = await space.folders.make();
  const dir = folder.path;
  const releases: (() => void)[] = [];
  try {
    const zip = path.join(dir, 'logs.zip');
    // The zip cannot be larger than what it unpacks to (stored entries are as large), nor than the disk.
    // (Not less what other attempts were promised: a zip is a few times smaller than its log, and a
    // download cannot wait for room as an unpack does.)
    const room = (await freeBytes(dir)) - FREE_SPACE_RESERVE;
    let zipBytes: number;
    try {
      zipBytes = await client.download(`${base}/logs`, zip, signal, { maxBytes: Math.max(0, Math.min(all.maxUnpackedBytes, room)), setting: MAX_UNPACKED_SETTING });
    } catch (err) {
      if (err instanceof ResponseTooLargeError && err.limit < all.maxUnpackedBytes) {
        throw new Error(`${where}: the zip is larger than the ${formatBytes(Math.max(0, room + FREE_SPACE_RESERVE))} free in ${dir} (${formatBytes(FREE_SPACE_RESERVE)} is kept free); not downloaded`);
      }
      throw err;
    }
    const logs = path.join(dir, 'logs');
    await mkdir(logs);
    const files = await unzip(zip, zipBytes, logs, all, where, signal, space, releases);
    const read: ReadLimits = { maxLineBytes: limits.maxLineBytes, maxZstdWindowMb: limits.maxZstdWindowMb, maxDecompressionRatio: limits.maxDecompressionRatio };
    const result = await collectAll({ path: logs, source, concurrency: 1, ...read }, { signal });
    // Problems name the entry inside the server's zip, not our temporary copy.
    const relocate = (p: Problem): Problem => (p.file?.startsWith(logs) ? { ...p, file: `${where}!${p.file.slice(logs.length)}` } : p);
    const app = result.apps[0];
    if (!app || result.apps.length > 1) {
      throw new Error(`${where}: expected one application attempt in the downloaded log, found ${result.apps.length} (${files} files)${result.problems.length > 0 ? `: ${result.problems.map((p) => p.message).join('; ')}` : ''}`);
    }
    // The engine's stage and executor summaries (issue 15), when it gives them, go with the record.
    return {
      record: { ...app.record, tags: { ...app.record.tags, origin: 'history_server' } },
      ...(app.summaries !== undefined ? { summaries: app.summaries } : {}),
      problems: [...app.problems, ...result.problems].map(relocate),
      files: [],
      provenance: apiProvenance(where),
    };
  } finally {
    // Also when the download failed or the run was cancelled: the folder holds a copy of the log.
    await folder.remove().catch(() => undefined);
    for (const release of releases) release();
  }
}
