/** Spark versions compared, in a module of its own so that browser code (the webviews) can use it without the record's schema. */
/** Whether a Spark version (`1.4.0-SNAPSHOT`, `2.0.2`) is older than major.minor; false when unknown or unreadable. */
export function sparkVersionBefore(version: string | null, major: number, minor: number): boolean {
  const m = version === null ? null : /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj < major || (maj === major && min < minor);
}
