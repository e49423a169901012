/**
 * One catalogue of line problems (issue 16): the same bad line of an event log reads the same in
 * `validate` and the editor (the analyzer's findings) as in `collect`, `runs` and the Output channel
 * (the engine's problems): one code, one message, the same 1-based line and column, one line of text.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeEventLogFile } from '../src/analysis/eventLogAnalyzer';
import { formatFinding } from '../src/analysis/findings';
import { collectAll } from '../src/collectors/eventlog/collect';
import { formatProblem } from '../src/collectors/record';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

async function bothReaders(name: string, lines: string[]): Promise<{ engine: string[]; analyzer: string[] }> {
  const dir = tempDir();
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n'));
  const { apps, problems } = await collectAll({ path: dir });
  const engine = [...problems, ...apps.flatMap((a) => a.problems)].filter((p) => p.line !== undefined).map(formatProblem);
  const analyzer = (await analyzeEventLogFile(file)).map((f) => formatFinding(file, f));
  return { engine, analyzer };
}

describe('a bad line reads the same in every reader', () => {
  const good = eventLogText({ appId: 'app-lines', stages: 1, tasksPerStage: 2 }).text.trimEnd().split('\n');

  // The engine's fast path reads an event's values without checking all of its JSON (DESIGN.md §2):
  // a line it refuses (one not closed by a brace) goes to JSON.parse, as every other line does.
  it.each([
    ['a task end cut in the middle', 'SparkListenerTaskEnd', (l: string) => l.slice(0, l.length >> 1)],
    ['text after the application start', 'SparkListenerApplicationStart', (l: string) => `${l} x`],
    ['a line that is not JSON at all', 'SparkListenerTaskEnd', () => 'hello world'],
    ['binary bytes', 'SparkListenerTaskEnd', () => '\u0001\u0002\u0003 not text'],
  ])('%s: one code, message, line and column', async (_what, event, spoil) => {
    const at = good.findIndex((l) => l.includes(event));
    const lines = good.map((l, i) => (i === at ? spoil(l) : l));
    const { engine, analyzer } = await bothReaders('app-lines', [...lines, '']);
    const mine = (xs: string[]): string[] => xs.filter((x) => x.includes(`:${at + 1}:`));
    expect(mine(engine)).toHaveLength(1);
    expect(mine(engine)).toEqual(mine(analyzer));
    expect(mine(engine)[0]).toMatch(new RegExp(`app-lines:${at + 1}:\\d+: error malformed-json Malformed JSON at column \\d+ \\(.+\\)\\. Collection skips this line: fix or remove it\\.$`));
  });

  it('JSON without an "Event" field', async () => {
    const lines = [...good.slice(0, 3), '{"not":"an event"}', ...good.slice(3), ''];
    const { engine, analyzer } = await bothReaders('app-lines', lines);
    const four = (xs: string[]): string[] => xs.filter((x) => x.includes(':4:'));
    expect(four(engine)).toEqual(four(analyzer));
    expect(four(engine)[0]).toMatch(/:4:1: error missing-event This line is JSON but has no "Event" field/);
  });

  it('a cut-off last line', async () => {
    const lines = [...good.slice(0, -1), good.at(-1)!.slice(0, 20)];
    const { engine, analyzer } = await bothReaders('app-lines', lines);
    const last = (xs: string[]): string[] => xs.filter((x) => x.includes(' truncated-line '));
    expect(last(engine)).toEqual(last(analyzer));
    expect(last(engine)).toEqual([expect.stringMatching(new RegExp(`app-lines:${lines.length}:1: warning truncated-line The last line is cut off`))]);
  });
});
