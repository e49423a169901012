import { describe, it } from 'vitest';

/**
 * A suite that cannot run here, said loudly: a warning in the output and one skipped test carrying
 * the reason, so it shows in the summary instead of passing silently.
 */
export function describeSkipped(name: string, reason: string): void {
  describe(name, () => {
    console.warn(`\n!!! ${reason}\n`);
    it.skip(reason, () => undefined);
  });
}

/**
 * For `it.skipIf`: `skip` as it is, said loudly when true, as describeSkipped says a suite that
 * cannot run here (a test of what one platform alone does, say).
 */
export function skippedHere(skip: boolean, reason: string): boolean {
  if (skip) console.warn(`\n!!! ${reason}\n`);
  return skip;
}
