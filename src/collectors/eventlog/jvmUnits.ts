/**
 * JVM memory strings (`512m`, `4g`, `1t`, `2048k`, plain bytes) as Spark's `JavaUtils.byteStringAs`
 * reads them, converted to whole MiB. Spark's `spark.executor.memory` etc. default to MiB when the
 * value has no unit (`Utils.memoryStringToMb`), so a bare number is taken as MiB there; callers
 * pass `bareUnit` to say which reading applies.
 */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1024 ** 5,
};

export function memoryStringToMb(value: string, bareUnit: 'b' | 'm' = 'm'): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!match) return null;
  const unit = (match[2] || bareUnit).toLowerCase();
  const factor = UNIT_BYTES[unit];
  if (factor === undefined) return null;
  return Math.floor((Number(match[1]) * factor) / 1024 ** 2);
}
