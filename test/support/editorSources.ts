/** Event-log sources as the editor's Sources view gives them, over folders of tiny logs: for tests of the collection controller. */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SourceConfig } from '../../src/collectors/config';
import type { Source } from '../../src/views/sources';
import { eventLogText } from './eventLogGenerator';
import { tempDir } from './tmp';

/** `n` tiny event logs (one stage, two tasks), each its own application. */
export function tinyLogs(n: number): string {
  const dir = tempDir();
  const { text } = eventLogText({ stages: 1, tasksPerStage: 2 });
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(5, '0')}`), text.replaceAll('spark-0123456789abcdef0123456789abcdef', `app-${i}`));
  return dir;
}

/** An event-log source named `name` over `dir`, stored `batchSize` records at a time. */
export function eventLogSource(name: string, dir: string, batchSize = 100): Source {
  const config: SourceConfig = { type: 'event_log', name, path: dir, recursive: true, batch_size: batchSize };
  return { name, config, errors: [] };
}
