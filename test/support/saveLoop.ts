/**
 * Child process for the kill test: saves the database over and over, each save adding records, and
 * prints `saved <n>` after each save returns (so the parent knows which records must survive).
 * Usage: node saveLoop.js <db> <start>
 */
import { JobStore } from '../../src/storage/jobStore';
import { makeRecord } from './records';

async function main(): Promise<void> {
  const [file, startRaw] = process.argv.slice(2);
  const store = await JobStore.open(file!);
  let n = Number(startRaw);
  for (;;) {
    const batch = Array.from({ length: 200 }, (_, i) => makeRecord({ app_id: `app-${n}-${i}`, environment: { blob: 'x'.repeat(2000) } }));
    store.upsert(batch);
    await store.save();
    process.stdout.write(`saved ${n}\n`);
    n++;
  }
}
void main();
