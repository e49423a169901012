/**
 * The History Server mapping's rules one at a time, on hand-written REST answers given straight to
 * `toRecord` (issue 19): each test fails when its rule is broken in src/.
 */
import { describe, expect, it } from 'vitest';
import { toRecord, type AttemptAnswers, type RestExecutor, type RestStage } from '../src/collectors/historyServer/record';
import type { Problem, SparkAppRecord } from '../src/collectors/record';

function record(over: Partial<AttemptAnswers>): SparkAppRecord {
  const problems: Problem[] = [];
  const r = toRecord(
    {
      app: { id: 'app-1', name: 'rules', attempts: [{}] },
      attempt: { startTimeEpoch: 1_700_000_000_000, endTimeEpoch: 1_700_000_060_000, completed: true, appSparkVersion: '3.5.3', sparkUser: 'u' },
      properties: { 'spark.executor.memory': '2g' },
      executors: [{ id: 'driver' }, { id: '1', totalCores: 4 }],
      stages: [],
      jobStageIds: null,
      ...over,
    },
    'hs',
    problems,
    'http://hs/app-1',
  );
  expect(problems).toEqual([]);
  return r;
}

const stage = (over: Partial<RestStage>): RestStage => ({ status: 'COMPLETE', stageId: 0, attemptId: 0, numCompleteTasks: 1, ...over });

describe('History Server record rules', () => {
  it('shuffle read: shuffleReadBytes when the server gives it, else remote + local (servers before Spark 2.x leave it out)', () => {
    const r = record({
      stages: [
        stage({ stageId: 0, shuffleReadBytes: 500, shuffleRemoteBytesRead: 1, shuffleLocalBytesRead: 1 }),
        stage({ stageId: 1, shuffleRemoteBytesRead: 1000, shuffleLocalBytesRead: 24 }),
        stage({ stageId: 2, shuffleRemoteBytesRead: 300 }),
        stage({ stageId: 3, shuffleLocalBytesRead: 7 }),
      ],
    });
    expect(r.shuffle_read_bytes).toBe(500 + 1024 + 300 + 7);
  });

  it('num_executors leaves out the driver when executors exist; the driver alone (local mode) is one', () => {
    const executors: RestExecutor[] = [{ id: 'driver', totalCores: 8 }, { id: '1', totalCores: 4 }, { id: '2', totalCores: 4 }];
    expect(record({ executors })).toMatchObject({ num_executors: 2, executor_cores: 4 });
    expect(record({ executors: [{ id: 'driver', totalCores: 8 }] })).toMatchObject({ num_executors: 1, executor_cores: 8 });
    expect(record({ executors: [{ id: '<driver>' }, { id: '0' }, { id: '1' }, { id: '2' }] }).num_executors).toBe(3);
  });

  it('a stage retried after a failure: both attempts count, the failed one stays failed after the retry succeeds', () => {
    const r = record({
      stages: [stage({ stageId: 0 }), stage({ stageId: 1, attemptId: 0, status: 'FAILED', numFailedTasks: 1 }), stage({ stageId: 1, attemptId: 1 })],
    });
    expect(r).toMatchObject({ total_stages: 3, failed_stages: 1, total_tasks: 4, failed_tasks: 1 });
  });

  it('skipped and pending stages did not run: not counted', () => {
    const r = record({ stages: [stage({ stageId: 0 }), stage({ stageId: 1, status: 'SKIPPED' }), stage({ stageId: 2, status: 'PENDING', numCompleteTasks: 0 })] });
    expect(r).toMatchObject({ total_stages: 1, failed_stages: 0 });
  });
});
