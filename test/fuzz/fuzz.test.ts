/**
 * The fuzz suite's short, seeded run (issue #13): every target runs a fixed sample of cases once,
 * then each property is one test, failing with fast-check's shrunk counterexample. `npm run fuzz`
 * (scripts/fuzz.ts) is the long run of the same targets. FUZZ_SEED replays another sample.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseShape, cutShape, SMALL_SHAPES } from '../support/sparkShapes';
import { describeShared, sharedPath } from '../support/shared';
import { tempDir } from '../support/tmp';
import { configTarget } from './configTarget';
import { bombTarget, eventLogTarget, type RealLog } from './eventLogTarget';
import { runTarget, show, shrink, type Tally, type Target } from './harness';
import { restTarget } from './restTarget';

const SEED = Number(process.env.FUZZ_SEED ?? 13);
/** How long shrinking one property's counterexample may take. */
const SHRINK_MS = 5000;

/**
 * One describe per target: the cases run once in beforeAll, then one test per property. A failing
 * property shows how many cases broke it and its smallest counterexample.
 */
function fuzz<C>(make: (root: string) => Target<C>, cases: number): void {
  const target = make(tempDir());
  describe(`fuzz ${target.name}: ${cases} cases, seed ${SEED}`, () => {
    let tally: Tally<C>;
    beforeAll(async () => {
      tally = await runTarget(target, { seed: SEED, cases });
    }, 180_000);
    afterAll(() => target.close());

    for (const [kind, meaning] of Object.entries(target.properties)) {
      it(`${kind}: ${meaning}`, async () => {
        const failed = tally.failures.get(kind);
        if (failed === undefined) return;
        const small = await shrink(target, kind, failed.first, SEED, SHRINK_MS);
        expect.fail(`${failed.count} of ${tally.cases} cases broke ${kind}; smallest counterexample (${small.steps} shrinks): ${show(small.counterexample)}\n${small.detail}`);
      }, 60_000);
    }
  });
}

fuzz((root) => eventLogTarget({ root }), 100);
// Lines of 150-260 MB that decode from a few KB: kept whole they would cost over 300 MB (issue #13 items 7, 8).
fuzz((root) => bombTarget({ root, range: { minMb: 150, maxMb: 260 } }), 2);
fuzz((root) => configTarget({ root, maxSources: 300 }), 40);
fuzz((root) => restTarget({ root }), 30);

describeShared('fuzz: real Spark logs (../shared/spark-events)', () => {
  // A 40 KB cut of each version's log: its head, some jobs, its end.
  const real: RealLog[] = SMALL_SHAPES.slice(0, 9).map((file) => ({ name: file, text: `${[...cutShape(parseShape(readFileSync(sharedPath(file), 'utf8')), 40_000)].join('\n')}\n` }));
  fuzz((root) => eventLogTarget({ root, realLogs: real, realOnly: true }), 25);
});
