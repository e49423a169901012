/**
 * The Spark applications behind EMR steps: event logs from an `s3://bucket/prefix` (downloaded into a
 * temp folder that is removed afterwards) or a local folder, read by the event-log engine, and/or a
 * History Server's REST answers.
 *
 * When the dir has `<ClusterId>/` sub-folders (the layout EMR's persistent logging and most teams
 * use), only the logs outside them are read up front; each cluster's folder is downloaded and read
 * when that cluster is processed, and only for the clusters the run lists, so a large prefix is
 * never held in memory (or on disk) at once.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { collectEventLogs } from '../eventlog/collect';
import { appAt, problemAt, remotePath, type CollectContext, type CollectedApp } from '../contract';
import { DownloadFolders, type DownloadFolder } from '../downloadFolders';
import { collectHistoryServer } from '../historyServer/collect';
import type { Problem } from '../record';

export interface SparkApp {
  app: CollectedApp;
  /** The EMR cluster id the log's path names (`j-…`), when it does. */
  clusterHint: string | null;
}

export interface SparkAppsOptions {
  source: string;
  eventLogDir?: string;
  historyServerUrl?: string;
  since?: Date;
  user?: string;
  concurrency: number;
  timeoutMs?: number;
}

export interface SparkAppsFound {
  apps: SparkApp[];
  problems: Problem[];
  filtered: number;
}

export interface SparkAppsSource extends SparkAppsFound {
  /** Applications with no cluster folder (and every History Server application), read up front. */
  apps: SparkApp[];
  /** Reads one cluster's `<ClusterId>/` folder, if the dir has one (else nothing). */
  forCluster: (id: string) => Promise<SparkAppsFound>;
}

const CLUSTER_ID = /^j-[A-Z0-9]+$/;

export function parseS3Uri(uri: string): { bucket: string; prefix: string } | null {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) return null;
  const prefix = m[2]!;
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

const ROLLING_DIR = /^eventlog_v2_/;
const DATABRICKS_FILE = /^eventlog(-\d{4}-\d{2}-\d{2}--\d{2}-\d{2}(\.[a-z0-9]+)?)?$/;

/**
 * The log unit an object belongs to (what `since` is applied to): a rolling `eventlog_v2_…/` folder
 * or a Databricks-style folder as a whole, otherwise the object itself.
 */
function unitOf(relative: string): string {
  const parts = relative.split('/');
  const rolling = parts.findIndex((p, i) => i < parts.length - 1 && ROLLING_DIR.test(p));
  if (rolling >= 0) return parts.slice(0, rolling + 1).join('/');
  if (parts.length > 1 && DATABRICKS_FILE.test(parts.at(-1)!)) return parts.slice(0, -1).join('/');
  return relative;
}

/** One S3 listing: a prefix, recursively, or with `/` as delimiter only the objects directly in it. */
interface Listing {
  prefix: string;
  delimiter?: string;
}

interface S3Where {
  s3: S3Client;
  bucket: string;
  signal: AbortSignal;
  onBytes: (n: number) => void;
}

/**
 * Copies the event logs under an S3 prefix into `dir`, keeping their paths relative to `root`.
 * A log unit whose objects were all last written before `since` is skipped: an event log is written
 * until its application ends, so such a log holds no application that `since` keeps. A rolling
 * folder whose last part is newer is copied whole: its first part holds the application's start.
 */
async function download(w: S3Where, root: string, listings: Listing[], dir: string, since: Date | undefined): Promise<number> {
  // Keys and times only (not bodies): enough to decide per unit before anything is fetched.
  const units = new Map<string, { key: string; relative: string; lastModified: number | undefined }[]>();
  for (const l of listings) {
    let token: string | undefined;
    do {
      const page = await w.s3.send(new ListObjectsV2Command({ Bucket: w.bucket, Prefix: l.prefix, Delimiter: l.delimiter, ContinuationToken: token }), { abortSignal: w.signal });
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || o.Key.endsWith('/')) continue;
        const relative = o.Key.slice(root.length);
        const unit = unitOf(relative);
        units.set(unit, [...(units.get(unit) ?? []), { key: o.Key, relative, lastModified: o.LastModified?.getTime() }]);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined && token !== '');
  }

  let files = 0;
  for (const objects of units.values()) {
    if (since !== undefined && objects.every((o) => o.lastModified !== undefined && o.lastModified < since.getTime())) continue;
    for (const o of objects) {
      const target = path.join(dir, ...o.relative.split('/').filter((p) => p !== '' && p !== '.' && p !== '..'));
      await mkdir(path.dirname(target), { recursive: true });
      const got = await w.s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: o.key }), { abortSignal: w.signal });
      if (!(got.Body instanceof Readable)) throw new Error(`s3://${w.bucket}/${o.key}: no body`);
      got.Body.on('data', (chunk: Buffer) => w.onBytes(chunk.length));
      await pipeline(got.Body, createWriteStream(target), { signal: w.signal });
      files++;
    }
  }
  return files;
}

/**
 * The `<ClusterId>/` sub-folders directly under an S3 prefix, and the listings of everything else
 * (the objects directly under it, and each other sub-folder).
 */
async function s3Folders(w: S3Where, prefix: string): Promise<{ clusters: Set<string>; loose: Listing[] }> {
  const clusters = new Set<string>();
  const loose: Listing[] = [{ prefix, delimiter: '/' }];
  let token: string | undefined;
  do {
    const page = await w.s3.send(new ListObjectsV2Command({ Bucket: w.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }), { abortSignal: w.signal });
    for (const p of page.CommonPrefixes ?? []) {
      if (p.Prefix === undefined) continue;
      const name = p.Prefix.slice(prefix.length).replace(/\/$/, '');
      if (CLUSTER_ID.test(name)) clusters.add(name);
      else loose.push({ prefix: p.Prefix });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined && token !== '');
  return { clusters, loose };
}

async function localClusterFolders(dir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return new Set(entries.filter((e) => e.isDirectory() && CLUSTER_ID.test(e.name)).map((e) => e.name));
  } catch {
    // Not a folder (a single log) or unreadable: the engine reports that when it reads it.
    return new Set();
  }
}

/**
 * The Spark applications of the configured event-log dir and History Server: the loose ones now,
 * each cluster's on request. Errors that are not about one application (S3 listing, credentials)
 * are thrown; the caller decides what they mean.
 */
export async function sparkApps(
  o: SparkAppsOptions,
  s3: () => S3Client,
  ctx: CollectContext,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<SparkAppsSource> {
  const inner: CollectContext = { signal, workerScript: ctx.workerScript, onProgress: undefined };
  const s3Uri = o.eventLogDir !== undefined ? parseS3Uri(o.eventLogDir) : null;
  const w = (): S3Where => ({ s3: s3(), bucket: s3Uri!.bucket, signal, onBytes });
  // The run's temp copies of S3: the first removes what killed runs left (downloadFolders.ts).
  const folders = new DownloadFolders('emr');

  /** Reads event logs from a local folder (or, for S3, a temp copy of `prefix`), then removes the copy. */
  const read = async (local: string | undefined, listings: Listing[], hint: string | null = null, roots?: string[]): Promise<SparkAppsFound> => {
    const found: SparkAppsFound = { apps: [], problems: [], filtered: 0 };
    let temp: DownloadFolder | undefined;
    try {
      let dir = local;
      if (s3Uri !== null) {
        temp = await folders.make();
        await download(w(), s3Uri.prefix, listings, temp.path, o.since);
        dir = temp.path;
      }
      // Paths in records and problems point at S3, not at a temp folder that is about to vanish.
      const shown = temp !== undefined ? remotePath(temp.path, `s3://${s3Uri!.bucket}/${s3Uri!.prefix}`) : (p: string): string => p;
      const fix = (p: Problem): Problem => problemAt(p, shown);
      for (const root of roots ?? [dir!]) {
        for await (const b of collectEventLogs({ path: root, recursive: true, since: o.since, user: o.user, source: o.source, concurrency: o.concurrency }, inner)) {
          found.filtered += b.filtered;
          found.problems.push(...b.problems.map(fix));
          for (const a of b.apps) {
            found.apps.push({ app: appAt(a, shown), clusterHint: hint });
          }
        }
      }
    } finally {
      if (temp !== undefined) await temp.remove();
    }
    return found;
  };

  const out: SparkAppsFound = { apps: [], problems: [], filtered: 0 };
  const add = (f: SparkAppsFound): void => {
    out.apps.push(...f.apps);
    out.problems.push(...f.problems);
    out.filtered += f.filtered;
  };
  let clusters = new Set<string>();
  if (o.eventLogDir !== undefined) {
    const dir = o.eventLogDir;
    if (s3Uri !== null) {
      const folders = await s3Folders(w(), s3Uri.prefix);
      clusters = folders.clusters;
      add(await read(undefined, folders.loose));
    } else {
      clusters = await localClusterFolders(dir);
      if (clusters.size === 0) add(await read(dir, []));
      else {
        // The entries beside the cluster folders, each read as its own path.
        const entries = (await readdir(dir)).filter((n) => !n.startsWith('.') && !clusters.has(n)).sort();
        add(await read(dir, [], null, entries.map((n) => path.join(dir, n))));
      }
    }
  }
  if (o.historyServerUrl !== undefined) {
    for await (const b of collectHistoryServer({ url: o.historyServerUrl, status: 'all', since: o.since, user: o.user, source: o.source, concurrency: o.concurrency, timeoutMs: o.timeoutMs }, inner)) {
      out.filtered += b.filtered;
      out.problems.push(...b.problems);
      for (const a of b.apps) out.apps.push({ app: a, clusterHint: null });
    }
  }
  return {
    ...out,
    forCluster: async (id) => {
      if (!clusters.has(id)) return { apps: [], problems: [], filtered: 0 };
      if (s3Uri !== null) return read(undefined, [{ prefix: `${s3Uri.prefix}${id}/` }], id);
      return read(path.join(o.eventLogDir!, id), [], id);
    },
  };
}
