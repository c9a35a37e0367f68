// The page's building blocks: sections, KPIs, tables with CSV export, the problem banner. Every
// value put into HTML goes through esc.
import { toCsv } from '../csv.ts';
import { fmt, money } from './format.ts';

export const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) =>
  root.querySelector(sel) as T;

export const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A table column: a key of the row, its heading, numeric (right-aligned), or its own HTML. */
export interface Column<R> {
  key: keyof R & string;
  label: string;
  num?: boolean;
  html?: (row: R) => string;
}

/** Columns of rows of type R: text, numbers (right-aligned), dollars; the label defaults to the key. */
export interface ColumnsOf<R> {
  text(key: keyof R & string, label?: string): Column<R>;
  num(key: keyof R & string, label?: string): Column<R>;
  money(key: keyof R & string, label?: string): Column<R>;
}

function columnsOf<R>(): ColumnsOf<R> {
  return {
    text: (key, label = key) => ({ key, label }),
    num: (key, label = key) => ({ key, label, num: true }),
    money: (key, label = key) => ({ key, label, num: true, html: (r) => money(r[key]) }),
  };
}

/** The problem banner: hidden without a message. */
export function problem(msg?: string): void {
  const el = $('#problem');
  el.hidden = !msg;
  el.textContent = msg ?? '';
}

/** A table with a CSV button in its section's heading; `define` gives its columns. */
export function table<R extends object>(
  id: string,
  define: (c: ColumnsOf<R>) => Column<R>[],
  rows: R[],
  name: string,
): void {
  const columns = define(columnsOf<R>());
  const el = document.getElementById(id) as HTMLElement;
  el.dataset.rows = String(rows.length);
  el.innerHTML = `<table><thead><tr>${columns
    .map((c) => `<th class="${c.num ? 'num' : ''}">${esc(c.label)}</th>`)
    .join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr>${columns
          .map(
            (c) =>
              `<td class="${c.num ? 'num' : ''}" data-col="${c.key}">${c.html ? c.html(r) : esc(c.num ? fmt(r[c.key], 2) : r[c.key])}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('')}</tbody></table>${rows.length ? '' : '<p class="note">nothing in this range</p>'}`;
  const button = el.closest('section')?.querySelector('button.csv') as HTMLButtonElement | null;
  if (button) {
    button.onclick = () => {
      const a = document.createElement('a');
      const csv = toCsv(
        columns.map((c) => c.key),
        rows,
      );
      a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      a.download = `${name}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    };
  }
}

export const section = (title: string, body: string, cls = '', csv = false) =>
  `<section class="${cls}"><h2>${esc(title)}${csv ? '<button class="csv" type="button">CSV</button>' : ''}</h2>${body}</section>`;

export const kpi = (id: string, label: string) =>
  `<div class="kpi"><div class="v" id="${id}" data-testid="${id}">…</div><div class="l">${esc(label)}</div></div>`;

/** A KPI's text, and its raw value in data-value (what the tests read). */
export function setKpi(id: string, value: string, raw?: number): void {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = value;
  if (raw !== undefined) el.dataset.value = String(raw);
}
