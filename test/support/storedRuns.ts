/**
 * Collections stored as the CLI stores them (ingest into a repository on an in-memory database),
 * each told what the store holds (unchanged.ts), as the CLI's store tells a run: for incremental
 * tests of the API collectors.
 */
import type { Batch, CollectContext } from '../../src/collectors/contract';
import { ingest, type RunSummary } from '../../src/storage/ingest';
import { unchangedCheck } from '../../src/storage/unchanged';
import { memoryRepository } from './memoryRepository';

/** A store, and `run` that collects into it: `collect` is given the context a CLI run gives (isUnchanged). */
export async function storedRuns(source: string): Promise<{ run: (collect: (ctx: CollectContext) => AsyncIterable<Batch>) => Promise<RunSummary> }> {
  const { repo } = await memoryRepository();
  return {
    run: (collect) => ingest(repo, collect({ isUnchanged: unchangedCheck(repo.knownFiles()) }), { source, options: {} }),
  };
}
