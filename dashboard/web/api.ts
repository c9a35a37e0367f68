// The typed client of the dashboard's JSON API: a path gives its answer's type (../api-types.ts).
// Only GETs: the server answers nothing else.
import type { ApiAnswers, ApiPath } from '../api-types.ts';

export class ApiError extends Error {}

export async function api<P extends ApiPath>(
  path: P,
  params: Record<string, string | undefined> = {},
): Promise<ApiAnswers[P]> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const url = q.size ? `${path}?${q}` : path;
  const res = await fetch(url);
  const body = (await res.json()) as ApiAnswers[P] & { error?: string };
  if (!res.ok) throw new ApiError(`${path}: ${body.error ?? res.status}`);
  return body;
}
