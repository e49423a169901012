/**
 * A thrown value as text for a message. Not everything thrown is an Error: sql.js throws the plain
 * string "Database closed", and `(err as Error).message` of it showed "collection failed: undefined"
 * (a review).
 */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message !== '' ? err.message : err.name;
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** For the log: the stack when there is one, else errorText. */
export function errorDetail(err: unknown): string {
  return err instanceof Error && err.stack !== undefined ? err.stack : errorText(err);
}
