// Bounds on the services' answers: a probe that hangs must not hold a panel, and a failure is shown
// by its first line, with the underlying cause (ECONNREFUSED and the address) when there is one.
import { errorField } from '../../lib/errors.ts';

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const reasonOf = (err: unknown): string => {
  const cause = (err as { cause?: unknown } | null)?.cause;
  const inner = cause === undefined ? undefined : (errorField(cause, 'message') ?? errorField(cause, 'code'));
  const msg = errorField(err, 'message') || errorField(err, 'code') || String(err);
  return (inner && !msg.includes(inner) ? `${msg}: ${inner}` : msg).split('\n')[0] as string;
};
