/**
 * The fuzz suite's starting points: small event logs in the shapes of several Spark versions and
 * every layout discovery knows, written here from test/support/eventLogGenerator.ts's lines (no
 * file is copied from ../shared), compressed with the independent encoders of
 * test/support/sparkCompress.ts; plus decompression bombs built by hand. No vitest import: the long
 * run (scripts/fuzz.ts) uses this too.
 */
import { gzipSync } from 'node:zlib';
import { eventLogText } from '../support/eventLogGenerator';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from '../support/sparkCompress';

export const CODECS = ['none', 'gzip', 'lz4', 'lzf', 'snappy', 'zstd'] as const;
export type FuzzCodec = (typeof CODECS)[number];

/** File-name suffix Spark (or Databricks, for gzip) gives each codec. */
export const SUFFIX: Readonly<Record<FuzzCodec, string>> = { none: '', gzip: '.gz', lz4: '.lz4', lzf: '.lzf', snappy: '.snappy', zstd: '.zstd' };

export function compress(codec: FuzzCodec, plain: Buffer): Buffer {
  switch (codec) {
    case 'none':
      return plain;
    case 'gzip':
      return gzipSync(plain);
    case 'lz4':
      // Small blocks, so a log of a few KB still has several blocks to corrupt.
      return lz4BlockStream(plain, { blockSize: 4096 });
    case 'lzf':
      return lzfStream(plain, { chunkSize: 4096 });
    case 'snappy':
      return snappyStream(plain, { blockSize: 4096 });
    case 'zstd':
      return zstdFrames(plain, { frameSize: 8192 });
  }
}

/**
 * Spark versions and layouts (discovery.ts): Spark 1.2's `FileLogger` folder (no LogStart, no
 * ExecutorAdded, `<driver>` block manager), 1.6 and 2.4 single files (no CPU time before 2.1; no
 * resource profiles or executor metrics before 3.0), an in-progress 2.4 file, a 3.5 rolling folder,
 * 4.x with the driver's exit code, and a Databricks folder (rolled `.gz` part + current `eventlog`).
 */
export const SHAPES = ['spark1.2-legacy', 'spark1.6', 'spark2.4-inprogress', 'spark3.5-rolling', 'spark4-single', 'databricks'] as const;
export type Shape = (typeof SHAPES)[number];

export interface UnitFile {
  /** Path relative to the case folder. */
  rel: string;
  /** The uncompressed log text of an event-log file; null for side files (appstatus, SPARK_VERSION_…). */
  plain: string | null;
  codec: FuzzCodec;
}

export interface Unit {
  /** App id, unique within a case. */
  id: string;
  /** 'real': a log from ../shared, not written here. */
  shape: Shape | 'real';
  /** The file (single) or folder (other layouts) discovery reports as the unit's path, relative. */
  root: string;
  files: UnitFile[];
}

type Json = Record<string, unknown>;

const drop = (o: unknown, ...keys: string[]): void => {
  if (o !== null && typeof o === 'object') for (const k of keys) delete (o as Json)[k];
};

/** One generated (Spark 3.5) event rewritten as `shape`'s version would have written it; null = not written. */
function reshape(e: Json, shape: Shape): Json | null {
  const type = e.Event as string;
  const old = shape === 'spark1.2-legacy' || shape === 'spark1.6';
  const pre3 = old || shape === 'spark2.4-inprogress';
  if (pre3 && (type === 'SparkListenerResourceProfileAdded' || type.startsWith('org.apache.spark.sql'))) return null;
  if (type === 'SparkListenerLogStart') {
    if (shape === 'spark1.2-legacy') return null;
    e['Spark Version'] = shape === 'spark1.6' ? '1.6.3' : shape === 'spark2.4-inprogress' ? '2.4.8' : shape === 'spark4-single' ? '4.0.1' : '3.5.3';
  }
  if (shape === 'spark1.2-legacy' && type === 'SparkListenerExecutorAdded') return null;
  if (shape === 'spark1.2-legacy' && type === 'SparkListenerBlockManagerAdded') {
    const bm = e['Block Manager ID'] as Json;
    if (bm['Executor ID'] === 'driver') bm['Executor ID'] = '<driver>';
  }
  if (shape === 'spark4-single' && type === 'SparkListenerApplicationEnd') e.ExitCode = 0;
  if (pre3) {
    drop(e, 'Task Executor Metrics');
    drop(e['Executor Info'], 'Resource Profile Id', 'Resources', 'Attributes');
    drop(e['Stage Info'], 'Resource Profile Id');
    for (const s of (e['Stage Infos'] as Json[] | undefined) ?? []) drop(s, 'Resource Profile Id');
    const tm = e['Task Metrics'] as Json | undefined;
    if (tm) {
      drop(tm['Shuffle Read Metrics'], 'Push Based Shuffle', 'Remote Requests Duration', 'Remote Bytes Read To Disk');
      if (old) drop(tm, 'Executor CPU Time', 'Executor Deserialize CPU Time', 'Peak Execution Memory');
    }
    if (old) drop(e['Task Info'], 'Accumulables');
  }
  return e;
}

/** The lines of a small log of `shape` for app `id` (deterministic). */
function shapedLines(shape: Shape, id: string, seed: number): string[] {
  const { text } = eventLogText({
    appId: id,
    appName: `fuzz-${shape}`,
    stages: 3,
    tasksPerStage: 4,
    executors: 2,
    seed,
    failEvery: 5,
    running: shape === 'spark2.4-inprogress',
    startMs: Date.UTC(2024, 4, 1) + seed * 3_600_000,
  });
  const out: string[] = [];
  for (const line of text.trimEnd().split('\n')) {
    const e = reshape(JSON.parse(line) as Json, shape);
    if (e !== null) out.push(JSON.stringify(e));
  }
  return out;
}

const joined = (lines: string[]): string => `${lines.join('\n')}\n`;

/**
 * A unit of `shape` for app `id`, its event-log files in `codec` where the layout allows one
 * (Spark 1.x folders name lz4, lzf or snappy in a COMPRESSION_CODEC_ file; Databricks rolls to .gz).
 */
export function makeUnit(shape: Shape, codec: FuzzCodec, id: string, seed: number): Unit {
  const lines = shapedLines(shape, id, seed);
  const half = Math.floor(lines.length / 2);
  switch (shape) {
    case 'spark1.2-legacy': {
      const c: FuzzCodec = codec === 'gzip' ? 'none' : codec;
      const files: UnitFile[] = [
        { rel: `${id}/EVENT_LOG_1`, plain: joined(lines), codec: c },
        { rel: `${id}/SPARK_VERSION_1.2.0`, plain: null, codec: 'none' },
        { rel: `${id}/APPLICATION_COMPLETE`, plain: null, codec: 'none' },
      ];
      if (c !== 'none') files.push({ rel: `${id}/COMPRESSION_CODEC_${c}`, plain: null, codec: 'none' });
      return { id, shape, root: id, files };
    }
    case 'spark3.5-rolling': {
      const dir = `eventlog_v2_${id}`;
      return {
        id,
        shape,
        root: dir,
        files: [
          { rel: `${dir}/events_1_${id}${SUFFIX[codec]}`, plain: joined(lines.slice(0, half)), codec },
          { rel: `${dir}/events_2_${id}${SUFFIX[codec]}`, plain: joined(lines.slice(half)), codec },
          { rel: `${dir}/appstatus_${id}`, plain: null, codec: 'none' },
        ],
      };
    }
    case 'databricks': {
      const dir = `${id}/eventlog/ctx-1`;
      return {
        id,
        shape,
        root: dir,
        files: [
          { rel: `${dir}/eventlog-2024-06-11--11-00.gz`, plain: joined(lines.slice(0, half)), codec: 'gzip' },
          { rel: `${dir}/eventlog`, plain: joined(lines.slice(half)), codec: 'none' },
        ],
      };
    }
    default: {
      const name = `${id}${SUFFIX[codec]}${shape === 'spark2.4-inprogress' ? '.inprogress' : ''}`;
      return { id, shape, root: name, files: [{ rel: name, plain: joined(lines), codec }] };
    }
  }
}

/** The bytes a unit's file holds on disk (side files are empty, as Spark writes them). */
export function fileBytes(f: UnitFile): Buffer {
  return f.plain === null ? Buffer.alloc(0) : compress(f.codec, Buffer.from(f.plain));
}

/** The event-log files of a unit (the ones a mutation may target). */
export function logFiles(u: Unit): UnitFile[] {
  return u.files.filter((f) => f.plain !== null);
}

// ---------------------------------------------------------------------------------------------
// Decompression bombs: tiny files that decode to hundreds of MB or more (issue #13 items 7 and 8).

/** What a bomb decodes to: `lines` lines, each `prefix` + `lineBytes` × `fill` + `suffix`. */
export interface BombSpec {
  codec: 'zstd' | 'gzip';
  /** A line's filler, repeated: 'a' (one giant token), ' ' (JSON whitespace), '\n' (empty lines). */
  fill: 'a' | ' ' | '\n';
  /** Bytes of filler per line. */
  lineBytes: number;
  lines: number;
  /** How each line starts and ends: bare filler, or the filler as a property value of a real event. */
  frame: 'bare' | 'property';
}

const PROPERTY_HEAD = '{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"spark.app.name":"';
const PROPERTY_TAIL = '"}}';

/** A zstd block header: 3 bytes little-endian, last flag, type (0 raw, 1 RLE), size. */
function zstdBlockHeader(last: boolean, type: 0 | 1, size: number): Buffer {
  const v = (last ? 1 : 0) | (type << 1) | (size << 3);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
}

/**
 * A zstd frame written by hand out of RLE blocks (one byte that stands for up to 128 KiB): a 1 GiB
 * line is 32 KiB on disk. Frame header: magic, descriptor 0 (no content size, not single segment),
 * window descriptor 0x38 (8 MiB window, far under the 128 MiB default limit).
 */
function zstdBomb(spec: BombSpec): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const raw = (text: string): void => {
    const b = Buffer.from(text, 'latin1');
    for (let at = 0; at < b.length; at += 128 * 1024) {
      const piece = b.subarray(at, Math.min(b.length, at + 128 * 1024));
      parts.push(zstdBlockHeader(false, 0, piece.length), piece);
    }
  };
  const fillByte = spec.fill.charCodeAt(0);
  for (let l = 0; l < spec.lines; l++) {
    if (spec.frame === 'property') raw(PROPERTY_HEAD);
    for (let left = spec.lineBytes; left > 0; left -= 128 * 1024) {
      parts.push(zstdBlockHeader(false, 1, Math.min(left, 128 * 1024)), Buffer.from([fillByte]));
    }
    raw(`${spec.frame === 'property' ? PROPERTY_TAIL : ''}\n`);
  }
  parts.push(zstdBlockHeader(true, 0, 0));
  return Buffer.concat(parts);
}

/** gzip members back to back (a valid gzip file): one member of 1 MiB of filler, repeated. */
function gzipBomb(spec: BombSpec): Buffer {
  const mib = gzipSync(Buffer.alloc(1 << 20, spec.fill), { level: 9 });
  const parts: Buffer[] = [];
  for (let l = 0; l < spec.lines; l++) {
    if (spec.frame === 'property') parts.push(gzipSync(PROPERTY_HEAD));
    const whole = Math.floor(spec.lineBytes / (1 << 20));
    for (let i = 0; i < whole; i++) parts.push(mib);
    const rest = spec.lineBytes - whole * (1 << 20);
    if (rest > 0) parts.push(gzipSync(Buffer.alloc(rest, spec.fill)));
    parts.push(gzipSync(`${spec.frame === 'property' ? PROPERTY_TAIL : ''}\n`));
  }
  return Buffer.concat(parts);
}

export function bombBytes(spec: BombSpec): Buffer {
  return spec.codec === 'zstd' ? zstdBomb(spec) : gzipBomb(spec);
}
