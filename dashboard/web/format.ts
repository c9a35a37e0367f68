// How values are written on the page: numbers in en-US, money in dollars, times in UTC without
// the T and the Z; a missing value is a dash.

export const fmt = (v: unknown, digits = 0) =>
  typeof v === 'number'
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : v === null || v === undefined
      ? '–'
      : String(v);

export const money = (v: unknown) =>
  typeof v === 'number'
    ? `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    : '–';

export const time = (iso: unknown) =>
  typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–';
