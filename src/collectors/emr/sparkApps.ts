/**
 * The Spark applications behind EMR steps: event logs from an `s3://bucket/prefix` (downloaded into a
 * temp folder that is removed afterwards) or a local folder, read by the event-log engine, and/or a
 * History Server's REST answers. Each comes back with the cluster id its path names, if any
 * (`<dir>/<ClusterId>/…`, the layout EMR's persistent logging and most teams use).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { collectEventLogs, type CollectContext, type CollectedApp } from '../eventlog/collect';
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

const CLUSTER_ID = /^j-[A-Z0-9]+$/;

export function parseS3Uri(uri: string): { bucket: string; prefix: string } | null {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) return null;
  const prefix = m[2]!;
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

function hintOf(relative: string): string | null {
  const first = relative.split(/[\\/]/)[0] ?? '';
  return CLUSTER_ID.test(first) ? first : null;
}

/**
 * Copies the event logs under an S3 prefix into `dir`, keeping their relative paths. Objects last
 * written before `since` are skipped: an event log is written until its application ends, so such a
 * log holds no application that `since` keeps.
 */
async function download(s3: S3Client, bucket: string, prefix: string, dir: string, since: Date | undefined, signal: AbortSignal, onBytes: (n: number) => void): Promise<number> {
  let token: string | undefined;
  let files = 0;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined || o.Key.endsWith('/')) continue;
      if (since !== undefined && o.LastModified !== undefined && o.LastModified.getTime() < since.getTime()) continue;
      const relative = o.Key.slice(prefix.length);
      const target = path.join(dir, ...relative.split('/').filter((p) => p !== '' && p !== '.' && p !== '..'));
      await mkdir(path.dirname(target), { recursive: true });
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }), { abortSignal: signal });
      if (!(got.Body instanceof Readable)) throw new Error(`s3://${bucket}/${o.Key}: no body`);
      got.Body.on('data', (chunk: Buffer) => onBytes(chunk.length));
      await pipeline(got.Body, createWriteStream(target), { signal });
      files++;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined && token !== '');
  return files;
}

/**
 * All Spark applications the configured event-log dir and History Server hold. Errors that are not
 * about one application (S3 listing, credentials) are thrown; the caller decides what they mean.
 */
export async function sparkApps(
  o: SparkAppsOptions,
  s3: () => S3Client,
  ctx: CollectContext,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<{ apps: SparkApp[]; problems: Problem[]; filtered: number }> {
  const out = { apps: [] as SparkApp[], problems: [] as Problem[], filtered: 0 };
  const inner: CollectContext = { signal, workerScript: ctx.workerScript, onProgress: undefined };
  if (o.eventLogDir !== undefined) {
    const s3Uri = parseS3Uri(o.eventLogDir);
    let dir = o.eventLogDir;
    let temp: string | undefined;
    try {
      if (s3Uri !== null) {
        temp = await mkdtemp(path.join(tmpdir(), 'spark-optimizer-emr-'));
        dir = temp;
        await download(s3(), s3Uri.bucket, s3Uri.prefix, temp, o.since, signal, onBytes);
      }
      // Paths in records and problems point at S3, not at a temp folder that is about to vanish.
      const shown = (p: string): string => (temp !== undefined && p.startsWith(temp) ? `s3://${s3Uri!.bucket}/${s3Uri!.prefix}${path.relative(temp, p).split(path.sep).join('/')}` : p);
      for await (const b of collectEventLogs({ path: dir, recursive: true, since: o.since, user: o.user, source: o.source, concurrency: o.concurrency }, inner)) {
        out.filtered += b.filtered;
        out.problems.push(...b.problems.map((p) => ({ ...p, file: p.file !== undefined ? shown(p.file) : undefined })));
        for (const a of b.apps) {
          const relative = path.relative(dir, a.unit.path);
          const app: CollectedApp = {
            ...a,
            files: a.files.map(shown),
            problems: a.problems.map((p) => ({ ...p, file: p.file !== undefined ? shown(p.file) : undefined })),
            unit: { ...a.unit, path: shown(a.unit.path), files: a.unit.files.map((f) => ({ ...f, path: shown(f.path) })) },
          };
          out.apps.push({ app, clusterHint: hintOf(relative) });
        }
      }
    } finally {
      if (temp !== undefined) await rm(temp, { recursive: true, force: true });
    }
  }
  if (o.historyServerUrl !== undefined) {
    for await (const b of collectHistoryServer({ url: o.historyServerUrl, status: 'all', since: o.since, user: o.user, source: o.source, concurrency: o.concurrency, timeoutMs: o.timeoutMs }, inner)) {
      out.filtered += b.filtered;
      out.problems.push(...b.problems);
      for (const a of b.apps) out.apps.push({ app: a, clusterHint: null });
    }
  }
  return out;
}
