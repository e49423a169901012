import type { AppSummaries, ExecutorSummary, StageSummary } from '../../src/collectors/record/summaries';

/** A complete stage attempt with overrides; durations and quantiles follow `duration_ms`. */
export function makeStage(overrides: Partial<StageSummary> = {}): StageSummary {
  const id = overrides.stage_id ?? 0;
  return {
    stage_id: id,
    attempt_id: 0,
    name: `stage ${id} at Job.scala:${10 + id}`,
    status: 'complete',
    submission_time: '2024-06-01T00:00:02.000Z',
    completion_time: '2024-06-01T00:00:12.000Z',
    duration_ms: 10_000,
    num_tasks: 20,
    failed_tasks: 0,
    killed_tasks: 0,
    input_bytes: 1_000,
    output_bytes: 0,
    shuffle_read_bytes: 500,
    shuffle_write_bytes: 600,
    memory_spilled_bytes: 0,
    disk_spilled_bytes: 0,
    executor_run_time_ms: 40_000,
    cpu_time_ms: 30_000,
    gc_time_ms: 100,
    peak_execution_memory_bytes: 1_048_576,
    task_duration_ms: { min: 100, p25: 200, p50: 300, p75: 400, max: 2_000 },
    ...overrides,
  };
}

export function makeExecutor(overrides: Partial<ExecutorSummary> = {}): ExecutorSummary {
  const id = overrides.executor_id ?? '1';
  return {
    executor_id: id,
    host: `host-${id}`,
    total_cores: 4,
    add_time: '2024-06-01T00:00:01.500Z',
    remove_time: null,
    remove_reason: null,
    total_tasks: 50,
    failed_tasks: 0,
    gc_time_ms: 250,
    shuffle_read_bytes: 1_000,
    shuffle_write_bytes: 1_200,
    ...overrides,
  };
}

/** `stages` stage attempts (ids 0..n-1, each stage's duration differing) and `executors` executors. */
export function makeSummaries(stages: number, executors: number): AppSummaries {
  return {
    stages: Array.from({ length: stages }, (_, i) => makeStage({ stage_id: i, duration_ms: 1_000 + ((i * 7919) % 50_000) })),
    executors: Array.from({ length: executors }, (_, i) => makeExecutor({ executor_id: String(i + 1) })),
  };
}
