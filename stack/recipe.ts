// Cache folders keyed by what was installed into them. A component's recipe (artifacts, versions,
// BOMs, flags) is hashed into its folder name, so a changed recipe provisions into a new folder
// instead of reusing one that an older recipe filled.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Recipe {
  component: string;
  version: string;
  [part: string]: unknown;
}

/** JSON with object keys sorted, so the same recipe always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function recipeKey(recipe: Recipe): string {
  return createHash('sha256').update(canonical(recipe)).digest('hex').slice(0, 10);
}

/** The cache folder of a recipe: `<component>-<version>-<hash>`. */
export function recipeHome(cacheDir: string, recipe: Recipe): string {
  return join(cacheDir, `${recipe.component}-${recipe.version}-${recipeKey(recipe)}`);
}

/** Records the recipe beside what it installed, for a person looking at the cache. */
export function writeRecipe(home: string, recipe: Recipe): void {
  writeFileSync(join(home, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
}
