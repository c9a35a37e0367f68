// One way to say what went wrong, whatever was thrown (an Error, a string, an object from a
// driver), instead of casts at every catch.

/** The message of whatever was thrown: an Error's message, or the value as text. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string')
    return (err as { message: string }).message;
  return String(err);
}

/** The innermost cause of an error chain (`cause` of `cause` …), or the error itself. */
export function rootError(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 32; depth++) {
    const cause = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null) break;
    e = cause;
  }
  return e;
}

/**
 * A string property of whatever was thrown (`code` of a PostgreSQL error, `name`, `type` of a
 * Temporal failure, `where` of a COPY error), or undefined when it has none.
 */
export function errorField(err: unknown, key: string): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}
