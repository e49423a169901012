/** Every command the extension contributes, in one typed table (checked against package.json by a test). */
export const COMMANDS = {
  collectSource: 'sparkOptimizer.collectSource',
  collectAll: 'sparkOptimizer.collectAll',
  dryRun: 'sparkOptimizer.dryRun',
  cancelCollection: 'sparkOptimizer.cancelCollection',
  refresh: 'sparkOptimizer.refresh',
  setSourceSecret: 'sparkOptimizer.setSourceSecret',
  openDatabaseLocation: 'sparkOptimizer.openDatabaseLocation',
  setDatabasePassword: 'sparkOptimizer.setDatabasePassword',
  clearJobs: 'sparkOptimizer.clearJobs',
  deleteJob: 'sparkOptimizer.deleteJob',
  applyRetention: 'sparkOptimizer.applyRetention',
  exportJobs: 'sparkOptimizer.exportJobs',
  openJob: 'sparkOptimizer.openJob',
  openJobJson: 'sparkOptimizer.openJobJson',
  openEventLog: 'sparkOptimizer.openEventLog',
  compareWithPrevious: 'sparkOptimizer.compareWithPrevious',
  showTrend: 'sparkOptimizer.showTrend',
  compareJobs: 'sparkOptimizer.compareJobs',
  openJobsTable: 'sparkOptimizer.openJobsTable',
  groupJobs: 'sparkOptimizer.groupJobs',
  filterJobs: 'sparkOptimizer.filterJobs',
  sortJobs: 'sparkOptimizer.sortJobs',
  createConfig: 'sparkOptimizer.createConfig',
  openConfig: 'sparkOptimizer.openConfig',
  revealSourceJobs: 'sparkOptimizer.revealSourceJobs',
  loadMoreJobs: 'sparkOptimizer.loadMoreJobs',
  checkLogFiles: 'sparkOptimizer.checkLogFiles',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** Context keys the manifest's `when` clauses use. */
export const CONTEXT = {
  hasSources: 'sparkOptimizer.hasSources',
  hasJobs: 'sparkOptimizer.hasJobs',
  collecting: 'sparkOptimizer.collecting',
  /** The jobs database could not be opened: the Jobs view says so, not "No jobs collected yet". */
  databaseError: 'sparkOptimizer.databaseError',
} as const;

/** Tree item kinds (`contextValue`), matched by `viewItem ==` in the manifest. */
export const ITEM = {
  source: 'sparkOptimizer.source',
  /** A source that takes a secret from the editor (its descriptor's `secret`): Set Source Secret is on its menu. */
  sourceWithSecret: 'sparkOptimizer.sourceWithSecret',
  group: 'sparkOptimizer.group',
  job: 'sparkOptimizer.job',
  more: 'sparkOptimizer.more',
} as const;
