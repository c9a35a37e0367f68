// Real-time events: the newest events matching the filters, then new ones as they arrive over
// server-sent events (/api/events/stream), with an activity chart of the last hour. Pausing closes
// the stream; resuming reloads the page's rows.
import { EVENT_TYPES, LEVELS } from '../../../lib/events/enums.ts';
import type { EventRow } from '../../api-types.ts';
import { api } from '../api.ts';
import { chart } from '../charts.ts';
import { time } from '../format.ts';
import { type Load, type Page, rangeValue } from '../page.ts';
import { $, type Column, type ColumnsOf, esc, problem, section, setKpi, table } from '../ui.ts';

const live = {
  source: undefined as EventSource | undefined,
  paused: false,
  rows: [] as EventRow[],
  perMinute: new Map<number, number>(),
};

/** One more event in its minute of the activity chart. */
function countMinute(e: EventRow): void {
  const m = Math.floor(Date.parse(e.timestamp) / 60_000) * 60_000;
  live.perMinute.set(m, (live.perMinute.get(m) ?? 0) + 1);
}

function layout(): string {
  const options = (xs: readonly string[]) =>
    `<option value="">any</option>${xs.map((x) => `<option>${x}</option>`).join('')}`;
  return [
    section(
      'Filters',
      `<form class="filters" id="filters" onsubmit="return false">
        <label>type<select name="type" id="f-type">${options(EVENT_TYPES)}</select></label>
        <label>level<select name="level" id="f-level">${options(LEVELS)}</select></label>
        <label>country<input name="country" id="f-country" size="5" placeholder="US"></label>
        <label>user<input name="user" id="f-user" size="12" placeholder="user id"></label>
        <label>text<input name="q" id="f-q" size="18" placeholder="free text"></label>
        <button type="button" id="pause">Pause</button>
        <span class="note"><b id="events-count" data-testid="events-count">0</b> events shown · <span id="live-state">connecting</span></span>
      </form>`,
      'wide',
    ),
    section(
      'Activity (events per minute, last hour)',
      '<div class="chart" id="chart-activity" style="height:200px"></div>',
      'wide',
    ),
    section('Newest events', '<div id="table-events" class="scroll"></div>', 'wide', true),
  ].join('');
}

function eventFilters(): Record<string, string> {
  const form = $('#filters') as HTMLFormElement;
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (String(v).trim()) out[k] = String(v).trim();
  return out;
}

const eventColumns = (c: ColumnsOf<EventRow>): Column<EventRow>[] => [
  { key: 'timestamp', label: 'time (UTC)', html: (r) => esc(time(r.timestamp)) },
  c.text('event_type', 'type'),
  { key: 'level', label: 'level', html: (r) => `<span class="lvl-${esc(r.level)}">${esc(r.level)}</span>` },
  c.text('user_id', 'user'),
  c.text('country'),
  c.text('city'),
  c.text('product_id', 'product'),
  c.num('amount'),
  c.text('error_code', 'error'),
  { key: 'query', label: 'query / message', html: (r) => esc(r.query ?? r.message ?? '') },
  c.text('event_id', 'event id'),
];

function renderEvents(fresh = 0): void {
  table('table-events', eventColumns, live.rows, 'events');
  setKpi('events-count', String(live.rows.length), live.rows.length);
  const trs = document.querySelectorAll('#table-events tbody tr');
  for (let i = 0; i < fresh && i < trs.length; i++) trs[i]?.classList.add('new');
}

function renderActivity(): void {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const data = [];
  for (let m = now - 59 * 60_000; m <= now; m += 60_000)
    data.push([new Date(m).toISOString(), live.perMinute.get(m) ?? 0]);
  chart('chart-activity').setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 50, right: 20, top: 10, bottom: 30 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data, itemStyle: { color: '#4f8cff' } }],
    },
    true,
  );
}

function connectLive(filters: Record<string, string>): void {
  live.source?.close();
  const q = new URLSearchParams({ ...filters, limit: '200' });
  const source = new EventSource(`/api/events/stream?${q}`);
  live.source = source;
  source.onopen = () => {
    $('#live-state').textContent = live.paused ? 'paused' : 'live';
  };
  source.addEventListener('events', (ev) => {
    if (live.paused) return;
    const rows = JSON.parse((ev as MessageEvent).data) as EventRow[];
    live.rows = rows.concat(live.rows).slice(0, 200);
    for (const r of rows) {
      countMinute(r);
    }
    renderEvents(rows.length);
    renderActivity();
  });
  source.onerror = () => {
    const el = document.getElementById('live-state');
    if (el) el.textContent = 'reconnecting';
  };
}

async function load({ first: reconnect, stale }: Load): Promise<void> {
  const filters = eventFilters();
  const [events, activity] = await Promise.all([
    api('/api/events', { ...filters, range: rangeValue(), limit: '200' }),
    filters.type || filters.level || filters.country || filters.user || filters.q
      ? Promise.resolve(undefined)
      : api('/api/timeline', { range: '1h' }),
  ]);
  if (stale()) return;
  live.rows = events.events;
  live.perMinute = new Map();
  if (activity) for (const p of activity.points) live.perMinute.set(Date.parse(p.t), p.total);
  else for (const r of live.rows) countMinute(r);
  renderEvents();
  renderActivity();
  if (reconnect && !live.paused) connectLive(filters);
  problem();
}

function setup(reload: () => void): void {
  let debounce: number | undefined;
  const changed = () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(reload, 300);
  };
  $('#filters').addEventListener('input', changed);
  $('#filters').addEventListener('change', changed);
  $('#pause').addEventListener('click', () => {
    live.paused = !live.paused;
    $('#pause').textContent = live.paused ? 'Resume' : 'Pause';
    $('#live-state').textContent = live.paused ? 'paused' : 'live';
    if (live.paused) live.source?.close();
    else reload();
  });
}

export const eventsPage: Page = {
  layout,
  setup,
  load,
  leave() {
    live.source?.close();
    live.source = undefined;
    live.paused = false;
  },
  live: true,
};
