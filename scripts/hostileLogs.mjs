// Writes the hostile inputs of issue 13 items 7 and 8 for measuring peak memory and time by hand
// (BENCHMARKS.md, "Hostile input"), streamed so that writing them takes little memory:
//   node scripts/hostileLogs.mjs huge-line FILE MB     a small complete log whose EnvironmentUpdate
//                                                      holds one property value of MB megabytes
//   node scripts/hostileLogs.mjs zstd-bomb FILE GIB    a zstd file of RLE blocks that expands to GIB GiB
//                                                      (about 32 KB per GiB on disk)
// Then e.g.: /usr/bin/time -v node dist/cli.js collect --source event-logs --path FILE --dry-run
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const [what, file, size] = process.argv.slice(2);
const amount = Number(size);
if (!file || !(amount > 0)) {
  console.error('usage: node scripts/hostileLogs.mjs huge-line FILE MB | zstd-bomb FILE GIB');
  process.exit(2);
}
const out = createWriteStream(file);
const write = async (chunk) => {
  if (!out.write(chunk)) await once(out, 'drain');
};

if (what === 'huge-line') {
  const t = 1_700_000_000_000;
  await write(`${JSON.stringify({ Event: 'SparkListenerLogStart', 'Spark Version': '3.5.3' })}\n`);
  await write(`${JSON.stringify({ Event: 'SparkListenerApplicationStart', 'App Name': 'huge', 'App ID': 'app-huge-line', Timestamp: t, User: 'u' })}\n`);
  await write('{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"spark.executor.cores":"4","spark.huge":"');
  const piece = Buffer.alloc(1 << 20, 'x');
  for (let i = 0; i < amount; i++) await write(piece);
  await write('"},"System Properties":{},"Classpath Entries":{}}\n');
  await write(`${JSON.stringify({ Event: 'SparkListenerExecutorAdded', Timestamp: t + 10, 'Executor ID': '1', 'Executor Info': { Host: 'h', 'Total Cores': 4 } })}\n`);
  await write(`${JSON.stringify({ Event: 'SparkListenerApplicationEnd', Timestamp: t + 60_000 })}\n`);
} else if (what === 'zstd-bomb') {
  // One frame with a 128 KiB window (not single-segment, no content size), then 8,192 RLE blocks per GiB:
  // each 3-byte block header (type 1, size 128 KiB) and 1 byte repeated 128 KiB times.
  await write(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]));
  const blocks = Math.round(amount * 8192);
  const header = (last) => ((128 * 1024) << 3) | (1 << 1) | (last ? 1 : 0);
  const block = (last) => {
    const h = header(last);
    return Buffer.from([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0x20]);
  };
  const batch = Buffer.concat(Array.from({ length: 1024 }, () => block(false)));
  let left = blocks - 1;
  for (; left >= 1024; left -= 1024) await write(batch);
  for (; left > 0; left--) await write(block(false));
  await write(block(true));
} else {
  console.error(`unknown input ${what}`);
  process.exit(2);
}
out.end();
await once(out, 'finish');
