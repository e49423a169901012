/**
 * Event logs of every Spark version's shape at any size, scaled from a real log (Spark's own test
 * logs and ../shared/real-logs): the real log's lines are kept byte for byte (so its key order,
 * and exactly which metrics its version leaves out, stay as Spark wrote them) and its job, stage
 * and task lines are repeated with renumbered IDs until the log reaches the wanted size. A real
 * log's TaskEnd lines are the bulk, as in production logs. For `npm run bench` (issue #12); the
 * real logs are read from ../shared at bench time, never copied into the project.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The shared data folder: ../shared beside the project root the bench runs from, or SPARK_SHARED. */
export function sharedDir(): string {
  return path.resolve(process.env.SPARK_SHARED ?? path.join(process.cwd(), '..', 'shared'));
}

export interface RealShape {
  /** Short name used in file names and bench rows, e.g. `spark1.4`. */
  name: string;
  version: string;
  /** Path under the shared folder. */
  file: string;
}

/** One real log per Spark version (../shared/spark-events/README.md lists their versions). */
export const REAL_SHAPES: RealShape[] = [
  { name: 'spark1.4', version: '1.4.0-SNAPSHOT', file: 'spark-events/spark-events/local-1430917381534' },
  { name: 'spark2.1', version: '2.1.0-SNAPSHOT', file: 'spark-events/spark-events/app-20161115172038-0000' },
  { name: 'spark2.3', version: '2.3.0-SNAPSHOT', file: 'spark-events/spark-events/application_1516285256255_0012' },
  { name: 'spark3.0', version: '3.0.0-SNAPSHOT', file: 'spark-events/spark-events/application_1553914137147_0018' },
  { name: 'spark3.5', version: '3.5.3', file: 'real-logs/eventlog_v2_spark-cc4d115f011443d787f03a71a476a745/events_1_spark-cc4d115f011443d787f03a71a476a745' },
  { name: 'spark4.x', version: '4.2.0-SNAPSHOT', file: 'spark-events/spark-events/eventlog_v2_local-1766844910796/events_1_local-1766844910796' },
];

/** Real logs of Spark 1.2 to 3.0 (the many-small-logs mix). */
export const SMALL_SHAPES: string[] = [
  'spark-events/spark-events/local-1422981759269',
  'spark-events/spark-events/local-1422981780767',
  'spark-events/spark-events/local-1425081759269',
  'spark-events/spark-events/local-1430917381534',
  'spark-events/spark-events/app-20161115172038-0000',
  'spark-events/spark-events/app-20161116163331-0000',
  'spark-events/spark-events/app-20180109111548-0000',
  'spark-events/spark-events/application_1516285256255_0012',
  'spark-events/spark-events/application_1553914137147_0018',
];

/** Events that belong to one job's run and are repeated when scaling. */
const BODY_START = /^\{"Event":"(SparkListenerJobStart|SparkListenerStageSubmitted|SparkListenerTaskStart|SparkListenerTaskEnd|org\.apache\.spark\.sql\.execution\.ui\.SparkListenerSQLExecutionStart)"/;
const TAIL_START = /^\{"Event":"SparkListenerApplicationEnd"/;
const IDS = /"(Stage ID|Job ID|Task ID)":(\d+)/g;
const STAGE_ID_LIST = /"Stage IDs":\[([\d,]*)\]/g;

export interface ParsedShape {
  appId: string;
  /** Lines before the first job (LogStart, environment, executors, ApplicationStart). */
  head: string[];
  /** From the first job to the ApplicationEnd: repeated when scaling. */
  body: string[];
  /** ApplicationEnd and what follows. */
  tail: string[];
  maxIds: { stage: number; job: number; task: number };
}

export function parseShape(text: string): ParsedShape {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const first = lines.findIndex((l) => BODY_START.test(l));
  let end = lines.findIndex((l) => TAIL_START.test(l));
  if (end < 0) end = lines.length;
  const head = lines.slice(0, Math.max(0, first));
  const body = lines.slice(Math.max(0, first), end);
  const tail = lines.slice(end);
  const maxIds = { stage: 0, job: 0, task: 0 };
  for (const l of body) {
    for (const m of l.matchAll(IDS)) {
      const k = m[1] === 'Stage ID' ? 'stage' : m[1] === 'Job ID' ? 'job' : 'task';
      maxIds[k] = Math.max(maxIds[k], Number(m[2]));
    }
  }
  const appId = /"App ID":"([^"]+)"/.exec(text)?.[1] ?? '';
  return { appId, head, body, tail, maxIds };
}

/** The body's lines with every stage, job and task ID moved up by the `rep`-th repetition's offset. */
function renumbered(shape: ParsedShape, rep: number): string[] {
  if (rep === 0) return shape.body;
  const off = { 'Stage ID': (shape.maxIds.stage + 1) * rep, 'Job ID': (shape.maxIds.job + 1) * rep, 'Task ID': (shape.maxIds.task + 1) * rep };
  return shape.body.map((l) =>
    l
      .replace(IDS, (_m, key: keyof typeof off, n: string) => `"${key}":${Number(n) + off[key]}`)
      .replace(STAGE_ID_LIST, (_m, ids: string) => `"Stage IDs":[${ids === '' ? '' : ids.split(',').map((n) => Number(n) + off['Stage ID']).join(',')}]`),
  );
}

export interface ScaleOptions {
  /** Replaces the log's app id everywhere (file names and records of many small logs stay distinct). */
  appId?: string;
}

/**
 * Yields the log's lines (no newline) until about `targetBytes`: its head, its jobs repeated with
 * fresh IDs (at least once; cut at a whole repetition, so a log may end a little past the target,
 * and never shorter than the real one unless the target is below it), its tail.
 */
export function* scaleShape(shape: ParsedShape, targetBytes: number, opts: ScaleOptions = {}): Generator<string> {
  const swap = (l: string): string => (opts.appId && shape.appId ? l.replaceAll(shape.appId, opts.appId) : l);
  const size = (ls: string[]): number => ls.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const fixed = size(shape.head) + size(shape.tail);
  const bodyBytes = Math.max(1, size(shape.body));
  for (const l of shape.head) yield swap(l);
  let written = fixed;
  for (let rep = 0; rep === 0 || written + bodyBytes <= targetBytes; rep++) {
    for (const l of renumbered(shape, rep)) yield rep === 0 ? swap(l) : l;
    written += bodyBytes;
  }
  for (const l of shape.tail) yield swap(l);
}

/**
 * A small log cut from a real one: its head, as many of its body lines as fit `targetBytes`, its
 * tail (so a 66 KB log from a 130 KB one keeps its version's shape and still ends like a log).
 */
export function* cutShape(shape: ParsedShape, targetBytes: number, opts: ScaleOptions = {}): Generator<string> {
  const total = [...shape.head, ...shape.body, ...shape.tail].reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  if (total <= targetBytes) {
    yield* scaleShape(shape, targetBytes, opts);
    return;
  }
  const swap = (l: string): string => (opts.appId && shape.appId ? l.replaceAll(shape.appId, opts.appId) : l);
  let written = 0;
  for (const l of [...shape.head, ...shape.tail]) written += Buffer.byteLength(l) + 1;
  for (const l of shape.head) yield swap(l);
  for (const l of shape.body) {
    written += Buffer.byteLength(l) + 1;
    if (written > targetBytes) break;
    yield swap(l);
  }
  for (const l of shape.tail) yield swap(l);
}

export function readShape(file: string): ParsedShape {
  return parseShape(readFileSync(path.isAbsolute(file) ? file : path.join(sharedDir(), file), 'utf8'));
}
