/**
 * An EnvironmentUpdate whose Spark Properties are all text is kept as JSON.parse made it, not
 * copied (issue #12); the record's environment must be what the copy (textProperties) gave: the
 * same keys in the same order, `__proto__` not a property, anything not text left out and said.
 */
import { describe, expect, it } from 'vitest';
import { AppReplay } from '../src/collectors/eventlog/replay';
import { textProperties } from '../src/collectors/record';

function environmentOf(propsJson: string): { environment: Record<string, string>; codes: string[] } {
  const replay = new AppReplay({ appId: 'app-1', source: 's', inProgress: false, tags: {} });
  replay.beginFile('f');
  const lines = [
    '{"Event":"SparkListenerApplicationStart","App Name":"a","App ID":"app-1","Timestamp":1700000000000,"User":"u"}',
    `{"Event":"SparkListenerEnvironmentUpdate","JVM Information":{},"Spark Properties":${propsJson},"System Properties":{},"Classpath Entries":{}}`,
    '{"Event":"SparkListenerApplicationEnd","Timestamp":1700000060000}',
  ];
  lines.forEach((line, i) => {
    const buf = Buffer.from(line);
    replay.line(buf, 0, buf.length, i + 1);
  });
  replay.endFile();
  const record = replay.finish()!;
  return { environment: record.environment, codes: replay.problems.map((p) => p.code) };
}

/** What the copy gives the same properties (the path every other shape of them takes). */
function copied(propsJson: string): Record<string, string> {
  return textProperties(Object.entries(JSON.parse(propsJson) as Record<string, unknown>)).properties;
}

describe('Spark Properties kept as parsed', () => {
  it.each([
    '{"spark.master":"yarn","spark.executor.memory":"4g"}',
    '{"b":"1","10":"ten","2":"two","a":"x"}',
    '{}',
    '{"__proto__":"x","spark.master":"local"}',
    '{"spark.master":"local","spark.executor.cores":4,"flag":true,"none":null}',
    '{"spark.master":"local","nested":{"a":"b"}}',
    '{"spark.app.name":"etl","spark.password":"hunter2"}',
  ])('%s: the environment the copy gives', (props) => {
    const { environment } = environmentOf(props);
    const expected = copied(props);
    // Redaction applies to both alike; compare what it leaves, key order included.
    expect(Object.keys(environment)).toEqual(Object.keys(expected));
    for (const key of Object.keys(expected)) if (!/password/.test(key)) expect(environment[key]).toBe(expected[key]);
    expect(Object.getPrototypeOf(environment)).toBe(Object.prototype);
  });

  it('a property that is not text is still left out with a warning', () => {
    const { environment, codes } = environmentOf('{"spark.master":"local","nested":{"a":"b"}}');
    expect(environment).toEqual({ 'spark.master': 'local' });
    expect(codes).toContain('bad-property');
  });
});
