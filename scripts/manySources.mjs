// Writes a config of N event-log sources for measuring large configs by hand (issue 13 item 9,
// BENCHMARKS.md "REST answers, History Server zips, large configs"):
//   node scripts/manySources.mjs DIR N   DIR/logs/sI/app-I (one small complete Spark log each) and
//                                        DIR/spark-optimizer.yaml with N event_log sources over them
// Then e.g.: /usr/bin/time -v node dist/cli.js collect --config DIR/spark-optimizer.yaml --db DIR/jobs.db
//            /usr/bin/time -v node dist/cli.js validate DIR/spark-optimizer.yaml
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const [dir, count] = process.argv.slice(2);
const n = Number(count);
if (!dir || !(n > 0)) {
  console.error('usage: node scripts/manySources.mjs DIR N');
  process.exit(2);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.join(dir, 'logs'), { recursive: true });
const config = ['sources:'];
for (let i = 0; i < n; i++) {
  const folder = path.join(dir, 'logs', `s${i}`);
  mkdirSync(folder);
  const id = `app-${i}`;
  const t = 1_714_550_400_000 + i * 1000;
  const events = [
    { Event: 'SparkListenerLogStart', 'Spark Version': '3.5.3' },
    { Event: 'SparkListenerApplicationStart', 'App Name': `job ${i}`, 'App ID': id, Timestamp: t, User: 'spark' },
    { Event: 'SparkListenerEnvironmentUpdate', 'Spark Properties': { 'spark.executor.cores': '2', 'spark.executor.memory': '4g', 'spark.driver.memory': '2g' } },
    { Event: 'SparkListenerApplicationEnd', Timestamp: t + 60_000 },
  ];
  writeFileSync(path.join(folder, id), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  config.push('  - type: event_log', `    name: s${i}`, `    path: logs/s${i}`);
}
writeFileSync(path.join(dir, 'spark-optimizer.yaml'), `${config.join('\n')}\n`);
