/**
 * A date or time a person types (`--since`, `--until`, `jobs --where "end>…"`), read one way
 * everywhere: `2024-05-01`, `2024-05-01 12:00`, `2024-05-01T12:00:30.5`, each optionally followed by
 * `Z` or an offset (`+02:00`). Without a zone it is local time, as the tables print times. Anything
 * else is refused rather than guessed (`new Date('5')` is May 2001; `2019-02-30` became March 2).
 */
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTime(raw: string): Date | undefined {
  const m = TIME.exec(raw.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const zone = m[8];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // The day must exist in its month (February 30 does not).
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (zone === undefined) return new Date(year, month - 1, day, hour, minute, second, ms);
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    if (Number(z[2]) > 14 || Number(z[3]) > 59) return undefined;
    t -= z[1] === '+' ? offset : -offset;
  }
  return new Date(t);
}
