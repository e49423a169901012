/**
 * Chart axes of the Trend and the Job page (src/webview/common/axis.ts): every tick a step can give
 * is labelled with exactly its value. Seen on the Trend of Spark's own test apps ("Spark shell"):
 * CPU time ticks at 1.25 s read "1.3 s", durations stepped by 100 s ("1m 40s, 3m 20s"), shuffle by
 * 25,000 B ("24.4 KB, 48.8 KB").
 */
import { describe, expect, it } from 'vitest';
import { BYTES_INCRS, COUNT_INCRS, DURATION_MS_INCRS, DURATION_S_INCRS, bytesTick, countTick, durationTick } from '../src/webview/common/axis';
import { offsetText } from '../src/views/jobPage/model';

/** The ms a duration tick's label says. */
function parseDuration(text: string): number {
  if (text === '0') return 0;
  let m: RegExpExecArray | null;
  if ((m = /^(\d+) ms$/.exec(text))) return Number(m[1]);
  if ((m = /^(\d+(?:\.\d+)?) s$/.exec(text))) return Math.round(Number(m[1]) * 1000);
  if ((m = /^(\d+)m(?: (\d+)s)?$/.exec(text))) return Number(m[1]) * 60_000 + Number(m[2] ?? 0) * 1000;
  if ((m = /^(\d+)h(?: (\d+)m)?$/.exec(text))) return Number(m[1]) * 3_600_000 + Number(m[2] ?? 0) * 60_000;
  throw new Error(`not a duration tick: ${text}`);
}

const UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5 };

function parseBytes(text: string): number {
  if (text === '0') return 0;
  const m = /^(\d+(?:\.\d+)?) (B|KB|MB|GB|TB|PB)$/.exec(text);
  if (!m) throw new Error(`not a bytes tick: ${text}`);
  return Number(m[1]) * UNIT[m[2]!]!;
}

/** The seconds the Job page's timeline tick says ("+1m 15s", "+4.5 s", "+2h 10m"). */
function parseOffset(text: string): number {
  let m: RegExpExecArray | null;
  if ((m = /^\+(\d+(?:\.\d)?) s$/.exec(text))) return Number(m[1]);
  if ((m = /^\+(\d+)m (\d\d)s$/.exec(text))) return Number(m[1]) * 60 + Number(m[2]);
  if ((m = /^\+(\d+)h (\d\d)m$/.exec(text))) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  throw new Error(`not an offset tick: ${text}`);
}

describe('chart axis steps and tick labels', () => {
  it('labels every multiple of every duration step exactly', () => {
    for (const incr of DURATION_MS_INCRS) for (let k = 0; k <= 12; k++) expect(parseDuration(durationTick(k * incr)), `${k} × ${incr} ms`).toBe(k * incr);
    expect([1250, 1500, 100_000, 120_000, 150_000, 5_400_000].map(durationTick)).toEqual(['1.25 s', '1.5 s', '1m 40s', '2m', '2m 30s', '1h 30m']);
  });

  it('steps durations by the clock: no 1.25 s, no 100 s, no 2.5 min', () => {
    for (const bad of [250, 1250, 2500, 25_000, 50_000, 100_000, 150_000]) expect(DURATION_MS_INCRS).not.toContain(bad);
    expect(DURATION_MS_INCRS).toEqual(expect.arrayContaining([15_000, 60_000, 300_000, 3_600_000]));
  });

  it("labels the Job page's timeline steps exactly (offsetText)", () => {
    for (const incr of DURATION_S_INCRS) for (let k = 0; k <= 12; k++) expect(parseOffset(offsetText(k * incr)), `${k} × ${incr} s`).toBeCloseTo(k * incr, 6);
    expect(DURATION_S_INCRS).not.toContain(50);
  });

  it('labels every multiple of every bytes step exactly, in the step’s unit', () => {
    for (const incr of BYTES_INCRS) for (let k = 0; k <= 12; k++) expect(parseBytes(bytesTick(k * incr, incr)), `${k} × ${incr} B`).toBe(k * incr);
    expect(bytesTick(20 * 1024, 20 * 1024)).toBe('20 KB');
    expect(bytesTick(1500 * 1024, 500 * 1024)).toBe('1500 KB');
    expect(BYTES_INCRS).not.toContain(25_000);
  });

  it('counts step by whole numbers', () => {
    expect(COUNT_INCRS.every((i) => Number.isInteger(i) && i >= 1)).toBe(true);
    expect(COUNT_INCRS).not.toContain(2.5);
    expect(countTick(4)).toBe('4');
    expect(countTick(2.5)).toBe('');
  });
});
