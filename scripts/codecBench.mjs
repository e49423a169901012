// Throughput of decode() per codec, in MB/s of decompressed output, on a generated Spark-like log.
//   node --expose-gc scripts/codecBench.mjs [codec...]      (CODEC_BENCH_MB=200, the default)
// CODEC_BENCH_RUNS (default 3) timed runs per codec, best reported: on a shared machine more runs steady the best.
// CODEC_BENCH_REUSE=1 decodes with reuseOutput (this loop is done with each chunk before the next, as splitLines is).
// Bundles the decoders and the test writers with esbuild into bench-data/codec (gitignored), writes
// the log and its compressed copies there once, then decodes each copy from memory in 1 MiB chunks,
// so the figure is the decoder alone, not the disk. A second pass checks the output byte for byte.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

const MB = 1024 * 1024;
const targetMb = Number(process.env.CODEC_BENCH_MB ?? 200);
const timedRuns = Number(process.env.CODEC_BENCH_RUNS ?? 3);
const decodeOptions = process.env.CODEC_BENCH_REUSE === '1' ? { reuseOutput: true } : {};
const dir = path.resolve('bench-data', 'codec');
mkdirSync(dir, { recursive: true });

const entry = path.join(dir, 'entry.ts');
writeFileSync(
  entry,
  [
    `export { decode } from ${JSON.stringify(path.resolve('src/collectors/eventlog/codecs/index'))};`,
    `export { lz4BlockStream, snappyStream, lzfStream, zstdFrames } from ${JSON.stringify(path.resolve('test/support/sparkCompress'))};`,
    `export { generateEventLog } from ${JSON.stringify(path.resolve('test/support/eventLogGenerator'))};`,
  ].join('\n'),
);
const bundle = path.join(dir, 'bundle.cjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
const lib = createRequire(import.meta.url)(bundle);

const plainFile = path.join(dir, `log-${targetMb}mb.json`);
if (!existsSync(plainFile) || statSync(plainFile).size < targetMb * MB) {
  const out = createWriteStream(plainFile);
  let written = 0;
  for (let seed = 1; written < targetMb * MB; seed++) {
    for (const line of lib.generateEventLog({ seed, stages: 40, tasksPerStage: 200, appId: `app-${seed}` })) {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
      written += Buffer.byteLength(line) + 1;
    }
  }
  out.end();
  await once(out, 'finish');
}
const plain = readFileSync(plainFile);
const digest = (b) => createHash('sha256').update(b).digest('hex');
const plainDigest = digest(plain);

const writers = {
  lz4: (d) => lib.lz4BlockStream(d),
  snappy: (d) => lib.snappyStream(d),
  lzf: (d) => lib.lzfStream(d),
  zstd: (d) => lib.zstdFrames(d),
  gzip: (d) => gzipSync(d, { level: 6 }),
  none: (d) => d,
};

async function* chunksOf(buf, size) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

console.log(`node ${process.version}; ${(plain.length / MB).toFixed(0)} MB of Spark-like JSON; MB/s of decompressed output${decodeOptions.reuseOutput ? '; reuseOutput' : ''}\n`);
const only = process.argv.slice(2);
for (const [codec, write] of Object.entries(writers)) {
  if (only.length > 0 && !only.includes(codec)) continue;
  const file = path.join(dir, `log-${targetMb}mb.${codec}`);
  if (!existsSync(file)) writeFileSync(file, write(plain));
  const compressed = readFileSync(file);
  const runs = [];
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  for (let run = 0; run < timedRuns; run++) {
    const start = process.hrtime.bigint();
    let bytes = 0;
    let parts = 0;
    for await (const out of lib.decode(codec, chunksOf(compressed, MB), file, decodeOptions)) {
      bytes += out.length;
      if (++parts % 64 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (bytes !== plain.length) throw new Error(`${codec}: decoded ${bytes} bytes, expected ${plain.length}`);
    runs.push(seconds);
  }
  const hash = createHash('sha256');
  for await (const out of lib.decode(codec, chunksOf(compressed, MB), file, decodeOptions)) hash.update(out);
  const ok = hash.digest('hex') === plainDigest;
  const best = Math.min(...runs);
  console.log(
    `${codec.padEnd(7)} ${(compressed.length / MB).toFixed(1).padStart(6)} MB compressed (x${(plain.length / compressed.length).toFixed(1)})` +
      `  best ${(plain.length / MB / best).toFixed(0).padStart(5)} MB/s  runs ${runs.map((s) => s.toFixed(2)).join(' / ')} s` +
      `  RSS +${((rssPeak - rssBefore) / MB).toFixed(0)} MB  output ${ok ? 'identical' : 'DIFFERENT'}`,
  );
  if (!ok) process.exitCode = 1;
}
