// What a page of the app is to the shell (main.ts), and the shell's controls the pages read.

/** One load of a page; `stale()` turns true once a newer load started (its answers are dropped). */
export interface Load {
  first: boolean;
  stale(): boolean;
}

export interface Page {
  /** The page's sections, as HTML. */
  layout(): string;
  /** Wires the page's own controls; `reload` loads the page again. */
  setup?(reload: () => void): void;
  load(load: Load): Promise<void>;
  /** Stops what the page runs in the background, before another page is shown. */
  leave?(): void;
  /** The page keeps itself current (the live tail): auto-refresh leaves it alone. */
  live?: boolean;
}

/** The header's time range (15m ... 30d). */
export function rangeValue(): string {
  return (document.querySelector('#range') as HTMLSelectElement).value;
}
