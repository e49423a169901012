/**
 * The source registry (issue 14): every source type is complete, and everything built from the
 * registry (config schema, key docs, JSON Schema, CLI flags and help, starter config, worker
 * protocol) knows every type. A descriptor that misses a piece fails here, not in a user's editor.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { KEY_DOCS, SOURCE_SCHEMAS, parseConfig, type SourceConfig } from '../src/collectors/config';
import { COMMON_OVERRIDES, type SourceDescriptor } from '../src/collectors/descriptor';
import { DESCRIPTORS, SOURCE_TYPES, adjustedJob, isSourceType, jobsFor, type SourceJob, type SourceType } from '../src/collectors/registry';
import { plan } from '../src/pipeline';
import { isHostMessage } from '../src/worker/collectProtocol';

/** A descriptor's starter entry, uncommented: the smallest config a user is shown for it. */
function starterSource(d: SourceDescriptor): SourceConfig {
  const text = `sources:\n${d.starter.replace(/^(\s*)# (?=\s*(- )?[a-z_]+:)/gm, '$1')}`;
  // Trailing "# comment" after a value stays a YAML comment.
  const parsed = parseConfig(text, '/work/configs');
  expect(parsed.errors, `${d.type} starter:\n${text}`).toEqual([]);
  expect(parsed.sources).toHaveLength(1);
  return parsed.sources[0]!;
}

const optionsOf = (job: SourceJob): Record<string, unknown> => job.options as unknown as Record<string, unknown>;

const output = (): { out: string[]; err: string[]; io: Parameters<typeof main>[1] } => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: process.cwd() } };
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the source registry', () => {
  it('has one complete descriptor per type, keyed by its type', () => {
    expect(DESCRIPTORS.map((d) => d.type)).toEqual(Object.keys(SOURCE_TYPES));
    const cliNames = DESCRIPTORS.flatMap((d) => d.cliNames);
    expect(new Set(cliNames).size, 'a --source spelling names one type').toBe(cliNames.length);
    for (const d of DESCRIPTORS) {
      expect(isSourceType(d.type)).toBe(true);
      expect(d.title.length, d.type).toBeGreaterThan(3);
      expect(d.cliNames.length, d.type).toBeGreaterThan(0);
      expect(d.icon, d.type).toMatch(/^[a-z][a-z-]+$/);
      expect(d.usage.length, d.type).toBeGreaterThan(0);
      expect(d.narrows.length, d.type).toBeGreaterThan(20);
      // Every collector skips what the store holds unchanged (CollectContext.isUnchanged): files on disk, or listed items' marks.
      expect(d.skipsUnchangedFiles, d.type).toBe(true);
      expect(d.starter, d.type).toContain(`type: ${d.type}`);
      expect(SOURCE_SCHEMAS[d.type as SourceType]).toBe(d.schema);
    }
    expect(isSourceType('yarn')).toBe(false);
    expect(isSourceType('toString')).toBe(false);
  });

  it('documents every config key of every type (hovers, the JSON Schema)', () => {
    for (const d of DESCRIPTORS) {
      for (const key of Object.keys(d.schema.shape)) expect(KEY_DOCS[key], `${d.type}.${key}`).toMatch(/\S{3}/);
    }
    expect(KEY_DOCS.type).toContain(DESCRIPTORS.map((d) => d.type).join(', '));
  });

  it('maps each flag to a key of its own schema, and a flag shared by types to the same key', () => {
    const keyOf = new Map<string, string>();
    for (const d of DESCRIPTORS) {
      for (const f of d.flags) {
        expect(Object.keys(d.schema.shape), `${d.type} --${f.flag}`).toContain(f.key);
        expect(keyOf.get(f.flag) ?? f.key, `--${f.flag}`).toBe(f.key);
        keyOf.set(f.flag, f.key);
      }
    }
  });

  it("each starter entry is a valid source; it plans to jobs of its type that the collection worker accepts, and its collector loads", async () => {
    vi.stubEnv('SPARK_HISTORY_TOKEN', 'starter-token');
    for (const d of DESCRIPTORS) {
      const source = starterSource(d);
      expect(source.type).toBe(d.type);
      expect(d.location(source).length, d.type).toBeGreaterThan(0);
      const planned = plan([source]);
      expect(planned.failed, d.type).toEqual([]);
      expect(planned.jobs.length, d.type).toBeGreaterThan(0);
      for (const { job, recorded } of planned.jobs) {
        expect(job.kind).toBe(d.type);
        expect(JSON.stringify(recorded), d.type).not.toContain('starter-token');
        expect(isHostMessage({ type: 'start', job: { job, known: [] } }), d.type).toBe(true);
        expect(typeof d.stopped(job.options, [])).toBe('boolean');
      }
      expect(typeof (await d.collector())).toBe('function');
    }
    // Not a kind of the registry: refused by the worker.
    const [job] = plan([starterSource(DESCRIPTORS[0]!)]).jobs;
    expect(isHostMessage({ type: 'start', job: { job: { ...job!.job, kind: 'yarn' }, known: [] } })).toBe(false);
  });

  it('applies an override exactly to the types whose descriptor takes it', () => {
    vi.stubEnv('SPARK_HISTORY_TOKEN', 'starter-token');
    for (const d of DESCRIPTORS) {
      const [job] = jobsFor(starterSource(d));
      const before = optionsOf(job!);
      const adjusted = optionsOf(adjustedJob(job!, { maxApps: 7, user: 'ana', maxResponseBytes: 2 ** 20 }));
      expect(adjusted.user, d.type).toBe('ana');
      expect(adjusted.maxApps, d.type).toBe(d.takes.includes('maxApps') ? 7 : before.maxApps);
      expect(adjusted.maxResponseBytes, d.type).toBe(d.takes.includes('maxResponseBytes') ? 2 ** 20 : before.maxResponseBytes);
    }
    expect(COMMON_OVERRIDES).toEqual(['since', 'user', 'concurrency', 'batchSize', 'shard']);
  });

  it('--help names every type, its usage line and its credentials', async () => {
    const { out, io } = output();
    expect(await main(['--help'], io)).toBe(0);
    const help = out.join('\n');
    for (const d of DESCRIPTORS) {
      expect(help).toContain(`collect --source ${d.cliNames[0]!} ${d.usage.split(' ')[0]!}`);
      if (d.credentials) expect(help.replace(/\s+/g, ' ')).toContain(d.credentials.replace(/\s+/g, ' '));
      expect(help.replace(/\s+/g, ' ')).toContain(d.narrows.replace(/\s+/g, ' '));
    }
  });

  it('--source takes every spelling of every type, and refuses a flag of another type by name', async () => {
    for (const d of DESCRIPTORS) {
      for (const name of d.cliNames) {
        const { err, io } = output();
        // Only the usage checks run: a missing required flag, or a dry run with nothing reachable is not wanted here.
        const code = await main(['collect', '--source', name, '--bogus-flag'], io);
        expect(code, `${name}: ${err.join('\n')}`).toBe(2);
        expect(err.join('\n')).toMatch(/unknown option '--bogus-flag'/);
      }
    }
    const { err, io } = output();
    expect(await main(['collect', '--source', 'databricks', '--region', 'us-east-1', '--dry-run'], io)).toBe(2);
    expect(err[0]).toMatch(/^spark-optimizer: --region does not apply to --source databricks\n/);
  });

  it("refuses a run flag that no source of the run takes, naming the types that take it (a review: --status running collected every event log)", async () => {
    const logs = path.resolve(__dirname, '..', 'samples', 'event-logs');
    for (const [flag, value] of [['--status', 'running'], ['--max-apps', '1'], ['--max-response-mb', '1'], ['--max-unpacked-mb', '1'], ['--max-unpack-ratio', '2']]) {
      const { err, io } = output();
      expect(await main(['collect', '--path', logs, '--dry-run', flag!, value!], io), flag).toBe(2);
      expect(err[0]).toMatch(new RegExp(`^spark-optimizer: ${flag} does not apply to --source event-logs; it is for .*history-server`));
    }
    // Taken by the event-log engine: accepted.
    const { io } = output();
    expect(await main(['collect', '--path', logs, '--dry-run', '--max-line-mb', '2', '--format', 'json'], io)).toBe(0);
  });

  it('the built JSON Schema has every type (dist/config.schema.json)', () => {
    const file = path.resolve(__dirname, '..', 'dist', 'config.schema.json');
    const schema = readFileSync(file, 'utf8');
    for (const d of DESCRIPTORS) expect(schema, d.type).toContain(`"const": "${d.type}"`);
    // Every type's `regression:` thresholds (issue 18), with their ranges and descriptions.
    type Props = Record<string, { properties?: Record<string, { minimum?: number; description?: string }>; additionalProperties?: boolean }>;
    const single = (JSON.parse(schema) as { anyOf: { properties: { collector?: { oneOf: { properties: Props }[] } } }[] }).anyOf[0]!.properties.collector!.oneOf;
    expect(single).toHaveLength(DESCRIPTORS.length);
    for (const o of single) {
      expect(o.properties.regression!.additionalProperties).toBe(false);
      expect(o.properties.regression!.properties!.baseline_runs).toMatchObject({ minimum: 3, description: expect.stringMatching(/median/) as string });
    }
  });
});
