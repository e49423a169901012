/**
 * Writes synthetic Spark 3.5 event logs with the event mix of a real application (the shape of
 * ../shared/real-logs: LogStart, EnvironmentUpdate, executors, SQL executions, jobs, stages, task
 * start/end pairs with accumulables and full task metrics), and returns the totals it wrote — an
 * oracle that does not share code with the engine. Deterministic for a given seed.
 * Used by tests (small logs), `npm run demo`'s samples and `npm run bench` (hundreds of MB).
 */

export interface GeneratedTotals {
  app_id: string;
  attempt_id: string | null;
  app_name: string;
  user: string;
  start_ms: number;
  end_ms: number | null;
  total_tasks: number;
  failed_tasks: number;
  total_stages: number;
  failed_stages: number;
  cpu_time_ns: number;
  input_bytes: number;
  output_bytes: number;
  shuffle_read_bytes: number;
  shuffle_write_bytes: number;
  memory_spilled_bytes: number;
  disk_spilled_bytes: number;
  num_executors: number;
  executor_cores: number;
  executor_memory: string;
  driver_memory: string;
  /** The same sizes in MiB, written out here rather than computed by the code under test. */
  executor_memory_mb: number;
  driver_memory_mb: number;
  spark_version: string;
}

export interface GeneratorOptions {
  appId?: string;
  attemptId?: string | null;
  appName?: string;
  user?: string;
  seed?: number;
  executors?: number;
  stages?: number;
  tasksPerStage?: number;
  /** Every Nth task fails (0 = none). */
  failEvery?: number;
  /** Every Nth stage fails (0 = none). */
  failStageEvery?: number;
  /** Leave out SparkListenerApplicationEnd (a running app). */
  running?: boolean;
  startMs?: number;
}

/** A deterministic pseudo-random sequence in [0, 1) (xorshift32), for generated logs and the tests' random cases. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const PLAN = 'AdaptiveSparkPlan isFinalPlan=false\n+- HashAggregate(keys=[PULocationID#17], functions=[sum(total_amount#30)])\n   +- Exchange hashpartitioning(PULocationID#17, 200)\n      +- FileScan parquet [PULocationID#17,total_amount#30] Batched: true, DataFilters: [], Format: Parquet';

/**
 * Yields the log line by line (no trailing newline), so a caller can write gigabytes without
 * holding them. `totals` is complete once the generator is exhausted.
 */
export function* generateEventLog(opts: GeneratorOptions = {}, totals: GeneratedTotals = emptyTotals(opts)): Generator<string> {
  const r = rng(opts.seed ?? 42);
  const executors = opts.executors ?? 4;
  const stages = opts.stages ?? 6;
  const tasksPerStage = opts.tasksPerStage ?? 8;
  let t = opts.startMs ?? 1750983883971;
  const submit = t - 1500;
  const int = (max: number): number => Math.floor(r() * max);

  Object.assign(totals, emptyTotals(opts), { start_ms: t + 2000, num_executors: executors });
  yield JSON.stringify({ Event: 'SparkListenerLogStart', 'Spark Version': totals.spark_version });
  yield JSON.stringify({
    Event: 'SparkListenerResourceProfileAdded',
    'Resource Profile Id': 0,
    'Executor Resource Requests': { cores: { 'Resource Name': 'cores', Amount: totals.executor_cores, 'Discovery Script': '', Vendor: '' } },
    'Task Resource Requests': { cpus: { 'Resource Name': 'cpus', Amount: 1.0 } },
  });
  yield JSON.stringify({
    Event: 'SparkListenerBlockManagerAdded',
    'Block Manager ID': { 'Executor ID': 'driver', Host: 'driver-svc', Port: 7079 },
    'Maximum Memory': 2388236697,
    Timestamp: t + 1800,
  });
  const props: Record<string, string> = {
    'spark.app.name': totals.app_name,
    'spark.app.id': totals.app_id,
    'spark.app.submitTime': String(submit),
    'spark.master': 'k8s://https://10.0.0.1:443',
    'spark.submit.deployMode': 'cluster',
    'spark.executor.cores': String(totals.executor_cores),
    'spark.executor.memory': totals.executor_memory,
    'spark.driver.memory': totals.driver_memory,
    'spark.executor.instances': String(executors),
    'spark.eventLog.enabled': 'true',
    'spark.eventLog.rolling.enabled': 'true',
    'spark.sql.adaptive.enabled': 'true',
    'spark.hadoop.fs.s3a.secret.key': '*********(redacted)',
  };
  for (let i = 0; i < 60; i++) props[`spark.kubernetes.driver.label.team${i}`] = `analytics-${i}`;
  yield JSON.stringify({
    Event: 'SparkListenerEnvironmentUpdate',
    'JVM Information': { 'Java Home': '/opt/java/openjdk', 'Java Version': '17.0.11 (Eclipse Adoptium)', 'Scala Version': 'version 2.12.18' },
    'Spark Properties': props,
    'Hadoop Properties': Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`fs.s3a.option${i}`, `value-${i}`])),
    'System Properties': { 'java.version': '17.0.11', 'user.name': totals.user, 'file.encoding': 'UTF-8' },
    'Metrics Properties': {},
    'Classpath Entries': Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`/opt/spark/jars/lib-${i}.jar`, 'System Classpath'])),
  });
  yield JSON.stringify({
    Event: 'SparkListenerApplicationStart',
    'App Name': totals.app_name,
    'App ID': totals.app_id,
    Timestamp: totals.start_ms,
    User: totals.user,
    ...(totals.attempt_id !== null ? { 'App Attempt ID': totals.attempt_id } : {}),
  });
  t = totals.start_ms + 3000;
  for (let e = 1; e <= executors; e++) {
    yield JSON.stringify({
      Event: 'SparkListenerExecutorAdded',
      Timestamp: t + e * 10,
      'Executor ID': String(e),
      'Executor Info': { Host: `10.1.0.${e}`, 'Total Cores': totals.executor_cores, 'Log Urls': {}, Attributes: {}, Resources: {}, 'Resource Profile Id': 0 },
    });
    yield JSON.stringify({
      Event: 'SparkListenerBlockManagerAdded',
      'Block Manager ID': { 'Executor ID': String(e), Host: `10.1.0.${e}`, Port: 40000 + e },
      'Maximum Memory': 2388236697,
      Timestamp: t + e * 10 + 5,
    });
  }
  let taskId = 0;
  for (let s = 0; s < stages; s++) {
    const stageFails = (opts.failStageEvery ?? 0) > 0 && (s + 1) % opts.failStageEvery! === 0;
    yield JSON.stringify({
      Event: 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart',
      executionId: s,
      description: `save at job.py:${40 + s}`,
      details: 'org.apache.spark.sql.DataFrameWriter.save(DataFrameWriter.scala:251)',
      physicalPlanDescription: PLAN,
      sparkPlanInfo: { nodeName: 'AdaptiveSparkPlan', simpleString: 'AdaptiveSparkPlan isFinalPlan=false', children: [], metadata: {}, metrics: [] },
      time: t,
    });
    const stageInfo = { 'Stage ID': s, 'Stage Attempt ID': 0, 'Stage Name': `save at job.py:${40 + s}`, 'Number of Tasks': tasksPerStage, 'RDD Info': [], 'Parent IDs': s > 0 ? [s - 1] : [], Details: 'org.apache.spark.rdd.RDD.collect', 'Resource Profile Id': 0 };
    yield JSON.stringify({ Event: 'SparkListenerJobStart', 'Job ID': s, 'Submission Time': t, 'Stage Infos': [stageInfo], 'Stage IDs': [s], Properties: { 'spark.sql.execution.id': String(s) } });
    yield JSON.stringify({ Event: 'SparkListenerStageSubmitted', 'Stage Info': { ...stageInfo, 'Submission Time': t }, Properties: {} });
    for (let k = 0; k < tasksPerStage; k++) {
      const id = taskId++;
      const exec = String(1 + (id % executors));
      const launch = t + int(50);
      const finish = launch + 200 + int(5000);
      const info = { 'Task ID': id, Index: k, Attempt: 0, 'Partition ID': k, 'Launch Time': launch, 'Executor ID': exec, Host: `10.1.0.${exec}`, Locality: 'PROCESS_LOCAL', Speculative: false, 'Getting Result Time': 0, 'Finish Time': 0, Failed: false, Killed: false, Accumulables: [] as unknown[] };
      yield JSON.stringify({ Event: 'SparkListenerTaskStart', 'Stage ID': s, 'Stage Attempt ID': 0, 'Task Info': info });
      const failed = ((opts.failEvery ?? 0) > 0 && (id + 1) % opts.failEvery! === 0) || (stageFails && k === 0);
      // 40-95% of the task's run time, in ns, as a real task's CPU time is some of its run time (one draw, as before).
      const cpu = Math.floor((finish - launch) * 1_000_000 * (0.4 + 0.55 * r()));
      const input = s === 0 ? int(128 * 1024 * 1024) : 0;
      const remote = s > 0 ? int(64 * 1024 * 1024) : 0;
      const local = s > 0 ? int(8 * 1024 * 1024) : 0;
      const shuffleWrite = s < stages - 1 ? int(32 * 1024 * 1024) : 0;
      const output = s === stages - 1 ? int(16 * 1024 * 1024) : 0;
      const memSpill = r() < 0.1 ? int(256 * 1024 * 1024) : 0;
      const diskSpill = memSpill > 0 ? Math.floor(memSpill / 3) : 0;
      totals.total_tasks++;
      if (failed) totals.failed_tasks++;
      totals.cpu_time_ns += cpu;
      totals.input_bytes += input;
      totals.output_bytes += output;
      totals.shuffle_read_bytes += remote + local;
      totals.shuffle_write_bytes += shuffleWrite;
      totals.memory_spilled_bytes += memSpill;
      totals.disk_spilled_bytes += diskSpill;
      const accumulables = [
        ['internal.metrics.executorDeserializeTime', int(300)],
        ['internal.metrics.executorDeserializeCpuTime', int(200_000_000)],
        ['internal.metrics.executorRunTime', finish - launch],
        ['internal.metrics.executorCpuTime', cpu],
        ['internal.metrics.resultSize', 2470],
        ['internal.metrics.jvmGCTime', int(40)],
        ['internal.metrics.input.bytesRead', input],
        ['internal.metrics.shuffle.read.remoteBytesRead', remote],
        ['internal.metrics.shuffle.write.bytesWritten', shuffleWrite],
        ['number of output rows', int(100000)],
      ].map(([name, v], i) => ({ ID: i + 1, Name: name, Update: v, Value: v, Internal: String(name).startsWith('internal'), 'Count Failed Values': true }));
      yield JSON.stringify({
        Event: 'SparkListenerTaskEnd',
        'Stage ID': s,
        'Stage Attempt ID': 0,
        'Task Type': s === stages - 1 ? 'ResultTask' : 'ShuffleMapTask',
        'Task End Reason': failed
          ? { Reason: 'ExceptionFailure', 'Class Name': 'java.lang.RuntimeException', Description: 'boom "quoted" Bytes Read', 'Stack Trace': [{ 'Declaring Class': 'Job', 'Method Name': 'run', 'File Name': 'Job.scala', 'Line Number': 12 }], 'Full Stack Trace': 'java.lang.RuntimeException: boom\n\tat Job.run', 'Accumulator Updates': [], Killed: false }
          : { Reason: 'Success' },
        'Task Info': { ...info, 'Finish Time': finish, Failed: failed, Accumulables: accumulables },
        'Task Executor Metrics': { JVMHeapMemory: int(1e9), JVMOffHeapMemory: int(1e8), OnHeapExecutionMemory: 0, OffHeapExecutionMemory: 0, OnHeapStorageMemory: 0, OffHeapStorageMemory: 0, MinorGCCount: int(10), MinorGCTime: int(100), MajorGCCount: 0, MajorGCTime: 0, TotalGCTime: int(100) },
        'Task Metrics': {
          'Executor Deserialize Time': int(300),
          'Executor Deserialize CPU Time': int(200_000_000),
          'Executor Run Time': finish - launch,
          'Executor CPU Time': cpu,
          'Peak Execution Memory': int(1e8),
          'Result Size': 2470,
          'JVM GC Time': int(40),
          'Result Serialization Time': int(5),
          'Memory Bytes Spilled': memSpill,
          'Disk Bytes Spilled': diskSpill,
          'Shuffle Read Metrics': {
            'Remote Blocks Fetched': int(50),
            'Local Blocks Fetched': int(10),
            'Fetch Wait Time': int(20),
            'Remote Bytes Read': remote,
            'Remote Bytes Read To Disk': 0,
            'Local Bytes Read': local,
            'Total Records Read': int(100000),
            'Remote Requests Duration': int(50),
            'Push Based Shuffle': { 'Corrupt Merged Block Chunks': 0, 'Merged Fetch Fallback Count': 0, 'Merged Remote Blocks Fetched': 0, 'Merged Local Blocks Fetched': 0, 'Merged Remote Chunks Fetched': 0, 'Merged Local Chunks Fetched': 0, 'Merged Remote Bytes Read': 0, 'Merged Local Bytes Read': 0, 'Merged Remote Requests Duration': 0 },
          },
          'Shuffle Write Metrics': { 'Shuffle Bytes Written': shuffleWrite, 'Shuffle Write Time': int(1e7), 'Shuffle Records Written': int(1e5) },
          'Input Metrics': { 'Bytes Read': input, 'Records Read': int(1e6) },
          'Output Metrics': { 'Bytes Written': output, 'Records Written': int(1e5) },
          'Updated Blocks': [],
        },
      });
    }
    t += 6000;
    totals.total_stages++;
    if (stageFails) totals.failed_stages++;
    yield JSON.stringify({
      Event: 'SparkListenerStageCompleted',
      'Stage Info': { ...stageInfo, 'Submission Time': t - 6000, 'Completion Time': t, ...(stageFails ? { 'Failure Reason': 'Job aborted due to stage failure: Task 0 failed 4 times' } : {}), Accumulables: [] },
    });
    yield JSON.stringify({ Event: 'SparkListenerJobEnd', 'Job ID': s, 'Completion Time': t, 'Job Result': stageFails ? { Result: 'JobFailed', Exception: { Message: 'stage failed' } } : { Result: 'JobSucceeded' } });
    yield JSON.stringify({ Event: 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd', executionId: s, time: t });
  }
  if (!opts.running) {
    totals.end_ms = t + 500;
    yield JSON.stringify({ Event: 'SparkListenerApplicationEnd', Timestamp: totals.end_ms });
  }
}

export function emptyTotals(opts: GeneratorOptions = {}): GeneratedTotals {
  return {
    app_id: opts.appId ?? 'spark-0123456789abcdef0123456789abcdef',
    attempt_id: opts.attemptId ?? null,
    app_name: opts.appName ?? 'TaxiAggregation',
    user: opts.user ?? 'spark',
    start_ms: 0,
    end_ms: null,
    total_tasks: 0,
    failed_tasks: 0,
    total_stages: 0,
    failed_stages: 0,
    cpu_time_ns: 0,
    input_bytes: 0,
    output_bytes: 0,
    shuffle_read_bytes: 0,
    shuffle_write_bytes: 0,
    memory_spilled_bytes: 0,
    disk_spilled_bytes: 0,
    num_executors: opts.executors ?? 4,
    executor_cores: 2,
    executor_memory: '4g',
    driver_memory: '2g',
    executor_memory_mb: 4096,
    driver_memory_mb: 2048,
    spark_version: '3.5.3',
  };
}

/** The whole log as one string with a trailing newline; for small test logs only. */
export function eventLogText(opts: GeneratorOptions = {}): { text: string; totals: GeneratedTotals } {
  const totals = emptyTotals(opts);
  const lines = [...generateEventLog(opts, totals)];
  return { text: `${lines.join('\n')}\n`, totals };
}

/**
 * Generated apps (3 stages of 40 tasks each, seeds 1, 2, ...) back to back until the text passes
 * `bytes`: a Spark-like log varied enough that compressors find matches at every distance.
 */
export function logOfSize(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let seed = 1; size < bytes; seed++) {
    for (const line of generateEventLog({ seed, stages: 3, tasksPerStage: 40, appId: `app-${seed}` })) {
      lines.push(line);
      size += line.length + 1;
    }
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}
