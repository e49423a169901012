/** An application's status, in a module of its own so that browser code (the webviews) can use it without the record's schema. */
export const STATUSES = ['completed', 'running', 'failed', 'unknown'] as const;
export type AppStatus = (typeof STATUSES)[number];
