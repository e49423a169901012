/**
 * How many `/stages/{id}/{attempt}/taskSummary` requests the History Server collector makes per
 * application attempt (the task-duration quantiles of each stage attempt): at once and in all, with
 * the config keys' ranges. In a module of its own so the source descriptor (main bundle) and the
 * collector (its own bundle) share it without the collector's code.
 */
export const TASK_SUMMARY_CONCURRENCY = { default: 4, min: 1, max: 8 } as const;
export const MAX_TASK_SUMMARIES = { default: 5000, min: 0, max: 1_000_000 } as const;
