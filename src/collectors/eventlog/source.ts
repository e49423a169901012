/** The event-log source type: Spark event-log files and folders, read by the engine in this folder. */
import * as z from 'zod';
import { batchSize, readLimitKeys, readLimitsOf, sinceDate, sourceName, userName } from '../configKeys';
import { READ_LIMIT_OVERRIDES, sourceFlags, type SourceDescriptor } from '../descriptor';
import type { EventLogOptions } from './collect';
import { parseTime } from '../../common/parseTime';

const schema = z
  .object({
    type: z.literal('event_log'),
    name: sourceName.optional(),
    path: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'path is required: a folder or file of event logs, or a list of them' })
      .describe('A folder or file of Spark event logs (spark.eventLog.dir), or a list of them; relative to this file.'),
    recursive: z.boolean().default(true).describe('Walk sub-folders of `path`.'),
    batch_size: batchSize,
    concurrency: z.number().int().min(1).max(64).optional(),
    since: sinceDate.optional(),
    user: userName,
    ...readLimitKeys,
  })
  .strict();
export type EventLogSourceConfig = z.infer<typeof schema> & { name: string };

export const eventLogSource = {
  type: 'event_log',
  title: 'Spark event logs',
  cliNames: ['event-logs', 'event_log'],
  schema,
  flags: sourceFlags({ flag: 'path', key: 'path', kind: 'path', required: true }, { flag: 'no-recursive', key: 'recursive', kind: 'negate' }),
  usage: '--path PATH [--no-recursive]',
  narrows: 'nothing before reading: every log is read, then its application is judged (a log holds its own times and user)',
  icon: 'file-text',
  starter: `  - name: local-event-logs
    type: event_log
    # A folder of Spark event logs (spark.eventLog.dir), relative to this file or absolute.
    path: spark-events
    # recursive: true        # walk sub-folders (default)
    # since: 2024-06-01      # only applications that ended after this date
`,
  location: (s) => [s.path].flat().join(', '),
  takes: READ_LIMIT_OVERRIDES,
  jobs: (s) =>
    [s.path].flat().map((p) => ({
      path: p,
      recursive: s.recursive,
      batchSize: s.batch_size,
      concurrency: s.concurrency,
      since: s.since ? parseTime(s.since) : undefined,
      user: s.user,
      source: s.name,
      ...readLimitsOf(s),
    })),
  skipsUnchangedFiles: true,
  stopped: (options, problems) => problems.some((p) => p.code === 'path-unreadable' && p.file === options.path),
  collector: async () => (await import('./collect.js')).collectEventLogs,
} satisfies SourceDescriptor<'event_log', EventLogSourceConfig, EventLogOptions>;
