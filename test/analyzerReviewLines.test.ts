/**
 * A malformed event-log line is described without quoting it (a review: V8's JSON.parse message
 * quotes up to ten characters of the line, and an EnvironmentUpdate line may hold a secret, which
 * then reached `validate`, the Output channel and the database), at the column of its fault.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeEventLogFile } from '../src/analysis/eventLogAnalyzer';
import { collectAll } from '../src/collectors/eventlog/collect';
import { jsonFault, malformedJson } from '../src/common/lineProblems';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const SECRET = 'wJalrXUtnFEMIK7MDENG';

describe('jsonFault: where a line stops being JSON', () => {
  it.each([
    ['{"a":1', 6, /^the line ends too soon: expected ',' or '\}'/],
    ['{"a":tru}', 5, /expected a value/],
    ['{"a":1,}', 7, /expected a property name/],
    ['[1,2', 4, /the line ends too soon/],
    ['{"a" 1}', 5, /expected ':'/],
    ['{"a":"x', 5, /a string that is never closed/],
    ['{"a":1} x', 8, /more text after the end/],
    ['', 0, /the line ends too soon/],
    ['hello', 0, /expected a value/],
    ['{"a":-}', 6, /no digits/],
    ['{"a":1.}', 7, /no digits after its decimal point/],
    ['{"a":"\\q"}', 6, /backslash/],
    ['{"a":[1,2}', 9, /expected ',' or '\]'/],
    ['{"a":"\u0001"}', 6, /control character/],
    ['{"本":"x","x":tru}', 13, /expected a value/],
  ])('%j: at %i', (text, at, why) => {
    expect(() => {
      JSON.parse(text);
    }).toThrow();
    const f = jsonFault(text)!;
    expect(f.at).toBe(at);
    expect(f.why).toMatch(why);
  });

  it('finds nothing wrong in valid JSON, nested deeply or not', () => {
    for (const ok of ['{}', '[]', '{"a":{"b":[{},[],1,-0.5e+3,"x\\u00e9",true,false,null]}}', ` ${'['.repeat(100_000)}${']'.repeat(100_000)} `]) expect(jsonFault(ok)).toBeNull();
  });

  it('never quotes the line', () => {
    for (const line of [`{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"spark.hadoop.fs.s3a.secret.key":"${SECRET}"}`, `{"k":"${SECRET}",}`, `{"k":${SECRET}}`, `{"k":"${SECRET}"} ${SECRET}`]) {
      const bad = malformedJson(line);
      expect(bad.message).not.toMatch(/wJalr|MIK7|ENG/);
      expect(bad.column).toBe(jsonFault(line)!.at + 1);
    }
  });
});

describe('a secret on a malformed line reaches no message', () => {
  it('validate and collect give the fault column and no text of the line', async () => {
    const good = eventLogText({ appId: 'app-leak', stages: 1, tasksPerStage: 2 }).text.trimEnd().split('\n');
    const at = good.findIndex((l) => l.includes('SparkListenerEnvironmentUpdate'));
    // A property value broken by a missing quote, right before the secret.
    const env = `{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"spark.master":"local","spark.hadoop.fs.s3a.secret.key":${SECRET}"}}`;
    const lines = good.map((l, i) => (i === at ? env : l));
    const dir = tempDir();
    const file = path.join(dir, 'app-leak');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const column = env.indexOf(SECRET) + 1;
    const findings = (await analyzeEventLogFile(file)).filter((f) => f.code === 'malformed-json');
    expect(findings.map((f) => [f.range.start.line, f.range.start.character + 1])).toEqual([[at, column]]);
    const { apps, problems } = await collectAll({ path: dir });
    const engine = [...problems, ...apps.flatMap((a) => a.problems)].filter((p) => p.code === 'malformed-json');
    expect(engine.map((p) => [p.line, p.column])).toEqual([[at + 1, column]]);
    for (const m of [...findings.map((f) => f.message), ...engine.map((p) => p.message)]) expect(m).not.toContain('wJalr');
  });
});
