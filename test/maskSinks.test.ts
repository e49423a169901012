/**
 * The sinks where a collection's texts are kept or shown mask what they are given (a security review),
 * whatever each collector did: the errors and options ingest stores with a run, and the problems the
 * editor writes to its Output channel (a log that outlives the run).
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/collectors/contract';
import { REDACTED } from '../src/common/secretText';
import { ingest } from '../src/storage/ingest';
import { CollectionController } from '../src/views/collection';
import { memoryRepository } from './support/memoryRepository';

const PW = 'SINK_PW_SECRET';
const TOKEN = 'SINK_TOKEN_SECRET';
const problems = (): Batch['problems'] => [
  // The value runs to white space: the `: ` formatProblem puts after the place goes with it.
  { severity: 'error', code: 'list-failed', message: `listing failed at jdbc:mysql://hive:${PW}@db/metastore`, file: `http://hs:18080/?access_token=${TOKEN}` },
  { severity: 'warning', code: 'slow', message: `-Ddb.password=${PW} was slow` },
  { severity: 'info', code: 'note', message: `token ${'dapi' + '0123456789abcdef0123456789abcdef'}` },
];

async function* batches(throwAtEnd?: string): AsyncGenerator<Batch> {
  await Promise.resolve();
  yield { apps: [], problems: problems(), filtered: 0, unchanged: 0 };
  if (throwAtEnd !== undefined) throw new Error(throwAtEnd);
}

describe('ingest stores a run with its texts masked', () => {
  it('errors (the problems and a thrown error) and options', async () => {
    const { repo } = await memoryRepository();
    await ingest(repo, batches(), { source: 'hs', options: { url: `http://u:${PW}@hs:18080/?access_token=${TOKEN}`, nested: { list: [`pwd=${PW}`] }, n: 3 } });
    await expect(ingest(repo, batches(`GET http://ann:${PW}@hs/api/v1 failed`), { source: 'hs', options: {} })).rejects.toThrow();
    const runs = repo.listRuns();
    const stored = JSON.stringify(runs);
    expect(stored).not.toContain(PW);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain('0123456789abcdef0123456789abcdef');
    const first = runs.find((r) => r.options.n === 3)!;
    expect(first.options).toEqual({ url: `http://u:${REDACTED}@hs:18080/?access_token=${REDACTED}`, nested: { list: [`pwd=${REDACTED}`] }, n: 3 });
    expect(first.errors).toEqual([`http://hs:18080/?access_token=${REDACTED} error list-failed listing failed at jdbc:mysql://hive:${REDACTED}@db/metastore`]);
    expect(runs.find((r) => r.options.n === undefined)!.errors.at(-1)).toBe(`run stopped: GET http://ann:${REDACTED}@hs/api/v1 failed`);
  });
});

describe("the editor's Output channel", () => {
  it('gets every problem of a stored batch masked, at its severity', () => {
    const lines: string[] = [];
    const write = (level: string) => (m: string): void => void lines.push(`${level} ${m}`);
    const log = { info: write('info'), warn: write('warn'), error: write('error'), debug: write('debug'), trace: write('trace'), show: () => undefined };
    const controller = new CollectionController('/', {} as never, log as never, undefined, {} as never);
    (controller as unknown as { logProblems(b: Batch): void }).logProblems({ apps: [], problems: problems(), filtered: 0, unchanged: 0 });
    expect(lines).toEqual([
      `error http://hs:18080/?access_token=${REDACTED} error list-failed listing failed at jdbc:mysql://hive:${REDACTED}@db/metastore`,
      `warn warning slow -Ddb.password=${REDACTED} was slow`,
      `info information note token ${REDACTED}`,
    ]);
  });
});
