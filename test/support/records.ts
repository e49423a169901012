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

/**
 * An environment shaped like a real Spark 3.5 application's (about 75 properties, ~6 KB of JSON, as
 * in ../shared/real-logs): most keys and values are the cluster's and the same for every app; the
 * app's id, name, times, driver address and a few job settings differ per app `i`.
 */
export function sparkLikeEnvironment(i: number): Record<string, string> {
  const submit = Date.UTC(2024, 0, 1) + i * 3_600_000;
  const env: Record<string, string> = {
    'spark.app.id': `spark-${(i * 2654435761).toString(16).padStart(32, '0').slice(-32)}`,
    'spark.app.name': `nightly-etl-${i % 50}`,
    'spark.app.submitTime': String(submit),
    'spark.app.startTime': String(submit + 1234),
    'spark.driver.host': `driver-${i % 997}.spark.svc.cluster.local`,
    'spark.driver.port': String(30000 + (i % 5000)),
    'spark.kubernetes.driver.pod.name': `nightly-etl-${i}-driver`,
    'spark.sql.shuffle.partitions': String(200 + (i % 4) * 100),
    'spark.executor.instances': String(2 + (i % 8)),
    'spark.master': 'k8s://https://10.0.0.1:443',
    'spark.submit.deployMode': 'cluster',
    'spark.executor.cores': '4',
    'spark.executor.memory': '8g',
    'spark.driver.memory': '4g',
    'spark.eventLog.enabled': 'true',
    'spark.eventLog.dir': 's3a://company-spark-logs/event-logs/',
    'spark.eventLog.rolling.enabled': 'true',
    'spark.eventLog.rolling.maxFileSize': '128m',
    'spark.sql.adaptive.enabled': 'true',
    'spark.sql.adaptive.coalescePartitions.enabled': 'true',
    'spark.serializer': 'org.apache.spark.serializer.KryoSerializer',
    'spark.hadoop.fs.s3a.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    'spark.hadoop.fs.s3a.aws.credentials.provider': 'com.amazonaws.auth.WebIdentityTokenCredentialsProvider',
    'spark.hadoop.fs.s3a.secret.key': '*********(redacted)',
    'spark.kubernetes.container.image': 'registry.example.com/data/spark:3.5.3-scala2.12-java17-python3-r-ubuntu',
    'spark.kubernetes.namespace': 'data-platform',
    'spark.kubernetes.authenticate.driver.serviceAccountName': 'spark-driver',
    'spark.driver.extraJavaOptions': '-Djava.net.preferIPv6Addresses=false -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED',
    'spark.executor.extraJavaOptions': '-Djava.net.preferIPv6Addresses=false -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED',
    'spark.jars.packages': 'org.apache.hadoop:hadoop-aws:3.3.4,com.amazonaws:aws-java-sdk-bundle:1.12.262,io.delta:delta-spark_2.12:3.2.0',
    'spark.sql.extensions': 'io.delta.sql.DeltaSparkSessionExtension',
    'spark.sql.catalog.spark_catalog': 'org.apache.spark.sql.delta.catalog.DeltaCatalog',
  };
  for (let k = 0; k < 44; k++) env[`spark.kubernetes.driver.label.team-${k}`] = `analytics-platform-${k % 9}`;
  return env;
}
