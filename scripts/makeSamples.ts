/**
 * Writes samples/event-logs: small generated logs in every layout and codec Spark writes, for
 * `npm run demo`. Run `npm run samples` after changing the generator; the output is committed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { eventLogText } from '../test/support/eventLogGenerator';
import { lz4BlockStream, snappyStream, zstdFrames, lzfStream } from '../test/support/sparkCompress';

const root = path.resolve('samples', 'event-logs');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const put = (rel: string, data: string | Buffer): void => {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
};
const day = Date.UTC(2024, 5, 11, 2, 0);

put('spark-5d0c2b8e1f3a4c6b9e7d1a2b3c4d5e6f', eventLogText({ appId: 'spark-5d0c2b8e1f3a4c6b9e7d1a2b3c4d5e6f', appName: 'NightlyTaxiAggregation', user: 'etl', startMs: day, stages: 5, tasksPerStage: 16 }).text);

const a1 = eventLogText({ appId: 'application_1718000000000_0042', attemptId: '1', appName: 'SessionizeClicks', user: 'maria', startMs: day + 3_600_000, stages: 3, tasksPerStage: 12, failEvery: 5, failStageEvery: 3 });
put('application_1718000000000_0042_1.lz4', lz4BlockStream(Buffer.from(a1.text)));
const a2 = eventLogText({ appId: 'application_1718000000000_0042', attemptId: '2', appName: 'SessionizeClicks', user: 'maria', startMs: day + 4_000_000, stages: 4, tasksPerStage: 12, seed: 9 });
put('application_1718000000000_0042_2.lz4', lz4BlockStream(Buffer.from(a2.text)));

const rolling = eventLogText({ appId: 'spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9', appName: 'FeatureBackfill', user: 'etl', startMs: day + 7_200_000, stages: 6, tasksPerStage: 10, executors: 8, seed: 3 });
const lines = rolling.text.trimEnd().split('\n');
const half = Math.floor(lines.length / 2);
const rollDir = 'eventlog_v2_spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
put(`${rollDir}/events_1_spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9.zstd`, zstdFrames(Buffer.from(`${lines.slice(0, half).join('\n')}\n`)));
put(`${rollDir}/events_2_spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9.zstd`, zstdFrames(Buffer.from(`${lines.slice(half).join('\n')}\n`)));
put(`${rollDir}/appstatus_spark-0a1b2c3d4e5f60718293a4b5c6d7e8f9`, '');

const running = eventLogText({ appId: 'local-1718100000000', appName: 'AdHocNotebook', user: 'sam', startMs: day + 9_000_000, stages: 4, tasksPerStage: 8, executors: 1, running: true, seed: 5 });
const snappy = snappyStream(Buffer.from(running.text));
put('local-1718100000000.snappy.inprogress', snappy.subarray(0, Math.floor(snappy.length * 0.8)));

const lzf = eventLogText({ appId: 'app-20240611093000-0001', appName: 'DailyRevenueReport', user: 'finance', startMs: day + 12_000_000, stages: 3, tasksPerStage: 6, seed: 11 });
put('app-20240611093000-0001.lzf', lzfStream(Buffer.from(lzf.text)));

const dbx = eventLogText({ appId: 'app-20240611110000-0000', appName: 'databricks-job-7731', user: 'svc-databricks', startMs: day + 18_000_000, stages: 4, tasksPerStage: 8, seed: 13 });
const dbLines = dbx.text.trimEnd().split('\n');
const dbHalf = Math.floor(dbLines.length / 2);
put('databricks/0611-110000-abcd123/eventlog/ctx-4321/eventlog-2024-06-11--11-00.gz', gzipSync(`${dbLines.slice(0, dbHalf).join('\n')}\n`));
put('databricks/0611-110000-abcd123/eventlog/ctx-4321/eventlog', `${dbLines.slice(dbHalf).join('\n')}\n`);

// A log damaged by a bad copy: one line cut in the middle, so the demo shows a problem with its line number.
const broken = eventLogText({ appId: 'app-20240611120000-0002', appName: 'CopiedFromS3', user: 'etl', startMs: day + 21_000_000, stages: 2, tasksPerStage: 6, seed: 17 });
const brokenLines = broken.text.split('\n');
brokenLines[8] = brokenLines[8]!.slice(0, 120);
put('app-20240611120000-0002', brokenLines.join('\n'));

console.log(`wrote samples to ${root}`);
