import { STAGE_NUMBERS, STAGE_STRIDE, type StageNumber, type StageTable } from '../../src/collectors/record/stageTable';
import { STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageSummary } from '../../src/collectors/record/summaries';

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

/**
 * Summaries shaped like a real application's (issue 15): stage names as Spark writes them, byte and
 * time figures of realistic magnitude (so SQLite stores them in as many bytes as real ones take),
 * ISO times, quantiles; a fraction of executors removed with a reason.
 */
export function realisticSummaries(app: number, stages: number, executors: number): AppSummaries {
  const start = Date.UTC(2024, 0, 1) + app * 3_600_000;
  const ops = ['save at NativeMethodAccessorImpl.java:0', 'collect at EtlJob.scala:', 'parquet at Writer.scala:', 'count at Checks.scala:', 'showString at NativeMethodAccessorImpl.java:0', 'run at ThreadPoolExecutor.java:1136'];
  const big = (k: number, scale: number): number => Math.floor(scale * (1 + ((k * 2654435761 + app) % 1000) / 100));
  const stageRows: StageSummary[] = Array.from({ length: stages }, (_, i) => {
    const submitted = start + i * 1_500;
    const duration = big(i, 800);
    const op = ops[i % ops.length]!;
    return {
      stage_id: i,
      attempt_id: i % 97 === 5 ? 1 : 0,
      name: op.endsWith(':') ? `${op}${100 + (i % 400)}` : op,
      status: i % 97 === 5 ? 'failed' : 'complete',
      submission_time: new Date(submitted).toISOString(),
      completion_time: new Date(submitted + duration).toISOString(),
      duration_ms: duration,
      num_tasks: 1 + (i % 400),
      failed_tasks: i % 50 === 0 ? 2 : 0,
      killed_tasks: 0,
      input_bytes: i % 3 === 0 ? big(i, 50_000_000) : 0,
      output_bytes: i % 5 === 0 ? big(i, 20_000_000) : 0,
      shuffle_read_bytes: big(i + 1, 30_000_000),
      shuffle_write_bytes: big(i + 2, 30_000_000),
      memory_spilled_bytes: i % 7 === 0 ? big(i, 100_000_000) : 0,
      disk_spilled_bytes: i % 7 === 0 ? big(i, 40_000_000) : 0,
      executor_run_time_ms: big(i, 40_000),
      cpu_time_ms: big(i, 30_000),
      gc_time_ms: big(i, 500),
      peak_execution_memory_bytes: big(i, 200_000_000),
      task_duration_ms: { min: big(i, 50), p25: big(i, 200), p50: big(i, 300), p75: big(i, 450), max: big(i, 3_000) },
    };
  });
  const executorRows: ExecutorSummary[] = Array.from({ length: executors }, (_, i) => ({
    executor_id: String(i + 1),
    host: `ip-10-0-${i % 250}-${(i * 7) % 250}.ec2.internal`,
    total_cores: 4,
    add_time: new Date(start + 5_000 + i * 100).toISOString(),
    remove_time: i % 4 === 0 ? new Date(start + 600_000 + i * 1000).toISOString() : null,
    remove_reason: i % 4 === 0 ? 'Executor decommission: spot instance termination' : null,
    total_tasks: big(i, 400),
    failed_tasks: i % 9 === 0 ? 1 : 0,
    gc_time_ms: big(i, 5_000),
    shuffle_read_bytes: big(i, 300_000_000),
    shuffle_write_bytes: big(i, 300_000_000),
  }));
  return { stages: stageRows, executors: executorRows };
}

/**
 * The stage table (stageTable.ts) holding `rows`, in their order: what the event-log engine gives.
 * Times must be toISOString's text (a table keeps milliseconds). `spare` cells follow the rows, as a
 * grown table's may.
 */
export function tableOfRows(rows: readonly StageSummary[], spare = 0, chunkBits = 4): StageTable {
  const perChunk = 1 << chunkBits;
  // A stride wider than a row, as the engine's slots are: cells past STAGE_NUMBERS hold junk a reader must not see.
  const stride = STAGE_STRIDE + 3;
  const chunks = Array.from({ length: Math.ceil((rows.length + spare) / perChunk) || 1 }, () => new Float64Array(perChunk * stride).fill(-7));
  const ms = (t: string | null): number => (t === null ? Number.NaN : Date.parse(t));
  rows.forEach((s, i) => {
    const values: Record<StageNumber, number | null> = {
      stage_id: s.stage_id,
      attempt_id: s.attempt_id,
      submission_ms: ms(s.submission_time),
      completion_ms: ms(s.completion_time),
      duration_ms: s.duration_ms,
      ...Object.fromEntries(STAGE_COUNTERS.map((c) => [c, s[c]])),
      peak_execution_memory_bytes: s.peak_execution_memory_bytes,
      task_min_ms: s.task_duration_ms?.min ?? null,
      task_p25_ms: s.task_duration_ms?.p25 ?? null,
      task_p50_ms: s.task_duration_ms?.p50 ?? null,
      task_p75_ms: s.task_duration_ms?.p75 ?? null,
      task_max_ms: s.task_duration_ms?.max ?? null,
    } as Record<StageNumber, number | null>;
    // Entries in reverse row order, so that `rows` is exercised.
    const r = rows.length - 1 - i;
    STAGE_NUMBERS.forEach((k, j) => (chunks[r >> chunkBits]![(r & (perChunk - 1)) * stride + j] = values[k] ?? Number.NaN));
  });
  return {
    count: rows.length,
    chunks,
    chunkBits,
    stride,
    rows: Int32Array.from(rows, (_, i) => rows.length - 1 - i),
    names: rows.map((s) => s.name),
    statuses: rows.map((s) => s.status),
  };
}
