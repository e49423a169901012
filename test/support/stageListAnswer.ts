/**
 * A History Server `/stages` answer as large as a test or a measurement wants, written to the
 * response as it is made (never held whole). Each entry has the fields and the size of a Spark 3.5
 * stage (../shared/spark-events HistoryServerExpectations/stage_list_json_expectation.json: about
 * 3.3 KB, most of it the call site's stack trace in `details` and the executor peak metrics), so
 * that what the collector keeps of it (record.ts stageSchema) is a small part.
 */
import type { ServerResponse } from 'node:http';

const gmt = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, 'GMT');

const FRAMES = [
  'org.apache.spark.rdd.RDD.count(RDD.scala:1296)',
  'org.apache.spark.sql.Dataset.$anonfun$count$1(Dataset.scala:3616)',
  'org.apache.spark.sql.execution.SQLExecution$.withNewExecutionId(SQLExecution.scala:125)',
  'org.apache.spark.sql.execution.SQLExecution$.$anonfun$withNewExecutionId$5(SQLExecution.scala:201)',
  'org.apache.spark.sql.SparkSession.withActive(SparkSession.scala:900)',
  'com.example.pipeline.DailyAggregation$.run(DailyAggregation.scala:88)',
  'com.example.pipeline.Main$.main(Main.scala:41)',
  'java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
  'java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:77)',
  'java.base/java.lang.reflect.Method.invoke(Method.java:568)',
  'org.apache.spark.deploy.SparkSubmit$$anon$2.doSubmit(SparkSubmit.scala:1111)',
  'org.apache.spark.deploy.SparkSubmit.main(SparkSubmit.scala)',
];

const PEAK_METRICS = ['JVMHeapMemory', 'JVMOffHeapMemory', 'OnHeapExecutionMemory', 'OffHeapExecutionMemory', 'OnHeapStorageMemory', 'OffHeapStorageMemory', 'OnHeapUnifiedMemory', 'OffHeapUnifiedMemory', 'DirectPoolMemory', 'MappedPoolMemory', 'ProcessTreeJVMVMemory', 'ProcessTreeJVMRSSMemory', 'ProcessTreePythonVMemory', 'ProcessTreePythonRSSMemory', 'ProcessTreeOtherVMemory', 'ProcessTreeOtherRSSMemory', 'MinorGCCount', 'MinorGCTime', 'MajorGCCount', 'MajorGCTime', 'TotalGCTime'];

/** Stage attempt `i` (stage i, attempt 0) of an application that started at `startMs`: every 4th read input, every 3rd shuffled. */
export function stageEntry(i: number, startMs = Date.UTC(2024, 5, 1)): Record<string, unknown> {
  const submit = startMs + i * 1000;
  const tasks = 8 + (i % 5);
  const zeroes = (keys: string[]): Record<string, number> => Object.fromEntries(keys.map((k, j) => [k, (i * 7 + j) % 3 === 0 ? 0 : 1_000_000 + i + j]));
  return {
    status: 'COMPLETE',
    stageId: i,
    attemptId: 0,
    numTasks: tasks,
    numActiveTasks: 0,
    numCompleteTasks: tasks,
    numFailedTasks: 0,
    numKilledTasks: 0,
    numCompletedIndices: tasks,
    submissionTime: gmt(submit),
    firstTaskLaunchedTime: gmt(submit + 5),
    completionTime: gmt(submit + 900),
    executorDeserializeTime: 36,
    executorDeserializeCpuTime: 20_000_000,
    executorRunTime: 160 * tasks,
    executorCpuTime: 120_000_000 * tasks,
    resultSize: 14496,
    jvmGcTime: 12,
    resultSerializationTime: 1,
    memoryBytesSpilled: 0,
    diskBytesSpilled: 0,
    peakExecutionMemory: 0,
    inputBytes: i % 4 === 0 ? 1_000_000 : 0,
    inputRecords: i % 4 === 0 ? 1000 : 0,
    outputBytes: 0,
    outputRecords: 0,
    shuffleRemoteBlocksFetched: 0,
    shuffleLocalBlocksFetched: 0,
    shuffleFetchWaitTime: 0,
    shuffleRemoteBytesRead: i % 3 === 0 ? 2000 : 0,
    shuffleRemoteBytesReadToDisk: 0,
    shuffleLocalBytesRead: i % 3 === 0 ? 1000 : 0,
    shuffleReadBytes: i % 3 === 0 ? 3000 : 0,
    shuffleReadRecords: 0,
    shuffleCorruptMergedBlockChunks: 0,
    shuffleMergedFetchFallbackCount: 0,
    shuffleMergedRemoteBlocksFetched: 0,
    shuffleMergedLocalBlocksFetched: 0,
    shuffleMergedRemoteChunksFetched: 0,
    shuffleMergedLocalChunksFetched: 0,
    shuffleMergedRemoteBytesRead: 0,
    shuffleMergedLocalBytesRead: 0,
    shuffleRemoteReqsDuration: 0,
    shuffleMergedRemoteReqsDuration: 0,
    shuffleWriteBytes: i % 3 === 1 ? 4000 : 0,
    shuffleWriteTime: 0,
    shuffleWriteRecords: 0,
    name: `count at DailyAggregation.scala:${88 + (i % 50)}`,
    description: `Job group for statement ${i}:\nSELECT region, count(*) FROM events WHERE day = '2024-06-01' GROUP BY region`,
    details: FRAMES.join('\n'),
    schedulingPool: 'default',
    rddIds: [i * 2 + 1, i * 2],
    accumulatorUpdates: [],
    killedTasksSummary: {},
    resourceProfileId: 0,
    peakExecutorMetrics: zeroes(PEAK_METRICS),
    isShufflePushEnabled: false,
    shuffleMergersCount: 0,
  };
}

/** The JSON size of stage `i`'s entry (they differ by a few bytes only). */
export const stageEntryBytes = (i = 0): number => JSON.stringify(stageEntry(i)).length;

/**
 * Writes `[stage 0, …, stage count-1]` to `res` (no content-length, as the History Server's Jetty
 * answers), in pieces of about 256 KiB, waiting on `drain`; stops when the client goes away.
 */
export function writeStageList(res: ServerResponse, count: number, entry: (i: number) => unknown = stageEntry): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  let i = 0;
  const more = (): void => {
    while (i < count && !res.destroyed) {
      const parts: string[] = [];
      let size = 0;
      for (; i < count && size < 256 * 1024; i++) {
        const text = (i === 0 ? '[' : ',') + JSON.stringify(entry(i));
        parts.push(text);
        size += text.length;
      }
      if (!res.write(parts.join(''))) {
        res.once('drain', more);
        return;
      }
    }
    if (!res.destroyed) res.end(count === 0 ? '[]' : ']');
  };
  res.on('close', () => res.removeAllListeners('drain'));
  more();
}
