// CSV export of a dashboard table. Pure, shared by the page and its unit test. A text cell that
// starts with =, +, -, @, a tab or a carriage return is run as a formula by spreadsheets (CSV
// injection, OWASP): such cells get a leading apostrophe. Numbers stay numbers, negative ones too.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (typeof v !== 'number' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv<R extends object>(keys: readonly (keyof R & string)[], rows: readonly R[]): string {
  return [keys.map(csvCell).join(','), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(','))]
    .join('\n')
    .concat('\n');
}
