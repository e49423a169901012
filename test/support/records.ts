import type { SparkAppRecord } from '../../src/collectors/record';

/** A valid record with overrides; tests build what they assert on from this. */
export function makeRecord(overrides: Partial<SparkAppRecord> = {}): SparkAppRecord {
  return {
    app_id: 'app-1',
    attempt_id: null,
    app_name: 'Job',
    user: 'etl',
    submit_time: '2024-06-01T00:00:00.000Z',
    start_time: '2024-06-01T00:00:01.000Z',
    end_time: '2024-06-01T00:10:01.000Z',
    duration_ms: 600_000,
    spark_version: '3.5.3',
    executor_cores: 2,
    executor_memory_mb: 4096,
    num_executors: 4,
    driver_memory_mb: 2048,
    total_tasks: 100,
    failed_tasks: 1,
    total_stages: 5,
    failed_stages: 0,
    cpu_time_ms: 123_456,
    input_bytes: 1_000_000,
    output_bytes: 2_000,
    shuffle_read_bytes: 3_000,
    shuffle_write_bytes: 3_000,
    memory_spilled_bytes: 0,
    disk_spilled_bytes: 0,
    tags: { log_layout: 'single' },
    environment: { 'spark.master': 'yarn' },
    source: 'event_log',
    status: 'completed',
    quality: [],
    ...overrides,
  };
}

/** `n` distinct records spread over users, sources and days; `from` numbers them on from another batch. */
export function manyRecords(n: number, from = 0): SparkAppRecord[] {
  const users = ['etl', 'maria', 'sam', 'finance'];
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const start = base + i * 3_600_000;
    return makeRecord({
      app_id: `app-${String(i).padStart(6, '0')}`,
      app_name: `Job ${i % 50}`,
      user: users[i % users.length]!,
      source: i % 3 === 0 ? 'hs' : 'event_log',
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + 60_000 + (i % 7) * 1000).toISOString(),
      duration_ms: 60_000 + (i % 7) * 1000,
      total_tasks: 10 + (i % 100),
      environment: Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`spark.conf.key${k}`, `value-${k}-${i}`])),
    });
  });
}
