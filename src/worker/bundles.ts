/** The file names of the bundled workers, next to the extension's and the CLI's bundles in dist/ (scripts/build.mjs writes them). */
export const WORKER_BUNDLES = { collect: 'collectWorker.js', eventLog: 'worker.js', analyze: 'analyzeWorker.js' } as const;
