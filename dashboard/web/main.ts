// The dashboard's single-page app, bundled by dashboard/assets.ts: this shell routes #/<page> to
// one of the four pages (pages/*.ts), loads it when shown, when the range changes and on
// auto-refresh, and says when it last updated. A load that a newer one overtook is dropped.
import { disposeCharts, resizeCharts } from './charts.ts';
import type { Page } from './page.ts';
import { analyticsPage } from './pages/analytics.ts';
import { eventsPage } from './pages/events.ts';
import { geoPage } from './pages/geo.ts';
import { monitoringPage } from './pages/monitoring.ts';
import { $, problem } from './ui.ts';

const PAGES: Record<string, Page> = {
  monitoring: monitoringPage,
  events: eventsPage,
  geo: geoPage,
  analytics: analyticsPage,
};

const state = {
  page: 'monitoring',
  timer: undefined as number | undefined,
  generation: 0,
};

function run(p: Promise<void>): void {
  p.then(
    () => {
      $('#updated').textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
      document.body.dataset.loaded = state.page;
    },
    (err: Error) => problem(err.message),
  );
}

function refresh(first = false): void {
  const page = PAGES[state.page];
  if (!page) return;
  // The live page updates itself over server-sent events; a refresh would drop its newest rows.
  if (!first && page.live) return;
  const generation = ++state.generation;
  run(page.load({ first, stale: () => generation !== state.generation }));
}

function schedule(): void {
  clearInterval(state.timer);
  const s = Number(($('#refresh') as HTMLSelectElement).value);
  if (s > 0) state.timer = window.setInterval(() => refresh(), s * 1000);
}

function show(): void {
  const name = (location.hash.replace(/^#\//, '') || 'monitoring').split('?')[0] as string;
  PAGES[state.page]?.leave?.();
  state.page = PAGES[name] ? name : 'monitoring';
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', (a as HTMLElement).dataset.page === state.page);
  disposeCharts();
  delete document.body.dataset.loaded;
  const page = PAGES[state.page] as Page;
  ($('#page') as HTMLElement).innerHTML = page.layout();
  page.setup?.(() => refresh(true));
  refresh(true);
}

window.addEventListener('hashchange', show);
window.addEventListener('resize', resizeCharts);
$('#range').addEventListener('change', () => refresh(true));
$('#refresh').addEventListener('change', schedule);
show();
schedule();
