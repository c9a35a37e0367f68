// The dashboard's single-page app: four pages over the JSON API, charts with ECharts (SVG
// renderer), the world map from world-atlas. Bundled by dashboard/assets.ts.
import { BarChart, FunnelChart, LineChart, MapChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { feature } from 'topojson-client';
import world from 'world-atlas/countries-110m.json' with { type: 'json' };
import { toCsv as toCsvText } from '../csv.ts';

echarts.use([
  BarChart,
  FunnelChart,
  LineChart,
  MapChart,
  PieChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  SVGRenderer,
]);

// The events' country codes (UK, not GB, as in the original system) to world-atlas's ISO numeric ids.
const COUNTRY_IDS: Record<string, string> = {
  US: '840',
  UK: '826',
  GB: '826',
  DE: '276',
  IN: '356',
  EG: '818',
  FR: '250',
  ES: '724',
  SA: '682',
  CA: '124',
  BR: '076',
  CN: '156',
  JP: '392',
  AU: '036',
  IT: '380',
  NL: '528',
  MX: '484',
};
const TYPES = ['search', 'purchase', 'order_complete', 'order_failed', 'error'];
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

type Row = Record<string, unknown>;
interface Column {
  key: string;
  label: string;
  num?: boolean;
  html?: (row: Row) => string;
}

const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) =>
  root.querySelector(sel) as T;
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: unknown, digits = 0) =>
  typeof v === 'number'
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : v === null || v === undefined
      ? '–'
      : String(v);
const money = (v: unknown) =>
  typeof v === 'number'
    ? `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    : '–';
const time = (iso: unknown) =>
  typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–';

const state = {
  page: 'monitoring',
  range: 'last',
  charts: new Map<string, echarts.ECharts>(),
  timer: undefined as number | undefined,
  generation: 0,
};

function rangeValue(): string {
  return ($('#range') as HTMLSelectElement).value;
}

class ApiError extends Error {}

async function api<T = Row>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const url = q.size ? `${path}?${q}` : path;
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(`${path}: ${body.error ?? res.status}`);
  return body;
}

function problem(msg?: string): void {
  const el = $('#problem');
  el.hidden = !msg;
  el.textContent = msg ?? '';
}

function chart(id: string): echarts.ECharts {
  const el = document.getElementById(id) as HTMLElement;
  let c = state.charts.get(id);
  if (!c || c.getDom() !== el) {
    c?.dispose();
    c = echarts.init(el, undefined, { renderer: 'svg' });
    state.charts.set(id, c);
  }
  return c;
}

function toCsv(columns: Column[], rows: Row[]): string {
  return toCsvText(
    columns.map((c) => c.key),
    rows,
  );
}

/** A table with a CSV button in its section's heading. */
function table(id: string, columns: Column[], rows: Row[], name: string): void {
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
      a.href = URL.createObjectURL(new Blob([toCsv(columns, rows)], { type: 'text/csv' }));
      a.download = `${name}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    };
  }
}

const section = (title: string, body: string, cls = '', csv = false) =>
  `<section class="${cls}"><h2>${esc(title)}${csv ? '<button class="csv" type="button">CSV</button>' : ''}</h2>${body}</section>`;
const kpi = (id: string, label: string) =>
  `<div class="kpi"><div class="v" id="${id}" data-testid="${id}">…</div><div class="l">${esc(label)}</div></div>`;
function setKpi(id: string, value: string, raw?: number): void {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = value;
  if (raw !== undefined) el.dataset.value = String(raw);
}

// ---------- Pipeline monitoring ----------

function monitoringLayout(): string {
  return [
    section('Services', '<div class="cards" id="services"></div>', 'wide'),
    section(
      'Ingestion',
      `<div class="kpis">${kpi('kpi-events', 'events in range (Cassandra)')}${kpi('kpi-rate', 'events/s consumed now')}${kpi('kpi-consumed', 'consumed by the workers')}${kpi('kpi-lag', 'consumer lag')}${kpi('kpi-errors', 'error events in range')}${kpi('kpi-dlq', 'dead-lettered messages')}</div>`,
      'wide',
    ),
    section('Events by type over time', '<div class="chart" id="chart-timeline"></div>', 'wide'),
    section('Consumer lag per partition', '<div id="table-lag" class="scroll"></div>', 'third', true),
    section(
      'Error events by code',
      '<div class="chart" id="chart-errors"></div><div id="table-errors"></div>',
      'third',
      true,
    ),
    section(
      'Dead-lettered messages by reason',
      '<div id="table-dlq"></div><div id="table-dlq-recent" class="scroll"></div>',
      'third',
      true,
    ),
    section(
      'Batch runs (Temporal)',
      '<div id="schedule" class="note"></div><div id="table-runs" class="scroll"></div>',
      'wide',
      true,
    ),
  ].join('');
}

async function loadMonitoring(gen: number): Promise<void> {
  const range = rangeValue();
  const [health, overview, timelineData, errors, lag, ingestion, dlq, runs, schedule] =
    await Promise.allSettled([
      api<{ services: Row[] }>('/api/health'),
      api('/api/overview', { range }),
      api<{ bucket: string; points: Row[] }>('/api/timeline', { range }),
      api<{ errors: number; byCode: Row[] }>('/api/errors', { range }),
      api<{ partitions: Row[]; total: number }>('/api/lag'),
      api('/api/ingestion'),
      api<{ byReason: Row[]; recent: Row[]; read: number }>('/api/dead-letters'),
      api<{ runs: Row[] }>('/api/batch/runs', { limit: '10' }),
      api('/api/batch/schedule'),
    ]);
  if (gen !== state.generation) return;
  const problems: string[] = [];
  const ok = <T>(r: PromiseSettledResult<T>): T | undefined => {
    if (r.status === 'fulfilled') return r.value;
    problems.push((r.reason as Error).message);
    return undefined;
  };
  const h = ok(health);
  if (h) {
    $('#services').innerHTML = h.services
      .map(
        (s) => `<div class="card ${s.state}" data-service="${esc(s.name)}" data-state="${esc(s.state)}">
          <span class="state">${esc(s.state)}</span><div class="name">${esc(s.name)}</div>
          ${s.reason ? `<div class="reason">${esc(s.reason)}</div>` : ''}
          <div class="detail">${esc(
            Object.entries((s.detail as Row) ?? {})
              .filter(([, v]) => v !== null && v !== undefined)
              .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.length : v}`)
              .join(' · '),
          )} · ${fmt(s.latencyMs)} ms</div></div>`,
      )
      .join('');
  }
  const o = ok(overview);
  if (o) setKpi('kpi-events', fmt(o.events), o.events as number);
  const i = ok(ingestion);
  if (i) {
    setKpi('kpi-rate', i.ratePerSecond === null ? '…' : fmt(i.ratePerSecond));
    setKpi('kpi-consumed', fmt(i.consumedTotal), i.consumedTotal as number);
  }
  const t = ok(timelineData);
  if (t) {
    chart('chart-timeline').setOption(
      {
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 50, right: 20, top: 30, bottom: 30 },
        xAxis: { type: 'time' },
        yAxis: { type: 'value', name: `events / ${t.bucket}` },
        series: TYPES.map((type) => ({
          name: type,
          type: 'bar',
          stack: 'all',
          data: t.points.map((p) => [p.t, p[type]]),
        })),
      },
      true,
    );
  }
  const e = ok(errors);
  if (e) {
    setKpi('kpi-errors', fmt(e.errors), e.errors);
    chart('chart-errors').setOption(
      {
        animation: false,
        tooltip: {},
        grid: { left: 60, right: 10, top: 10, bottom: 30 },
        xAxis: { type: 'category', data: e.byCode.map((r) => r.error_code) },
        yAxis: { type: 'value' },
        series: [{ type: 'bar', data: e.byCode.map((r) => r.errors), itemStyle: { color: '#d83a3a' } }],
      },
      true,
    );
    table(
      'table-errors',
      [
        { key: 'error_code', label: 'code' },
        { key: 'errors', label: 'events', num: true },
      ],
      e.byCode,
      'errors-by-code',
    );
  }
  const l = ok(lag);
  if (l) {
    setKpi('kpi-lag', fmt(l.total), l.total);
    table(
      'table-lag',
      [
        { key: 'partition', label: 'partition', num: true },
        { key: 'high', label: 'end offset', num: true },
        { key: 'committed', label: 'committed', num: true },
        { key: 'lag', label: 'lag', num: true },
      ],
      l.partitions,
      'consumer-lag',
    );
  }
  const d = ok(dlq);
  if (d) {
    setKpi('kpi-dlq', fmt(d.read), d.read);
    table(
      'table-dlq',
      [
        { key: 'reason', label: 'reason' },
        { key: 'messages', label: 'messages', num: true },
      ],
      d.byReason,
      'dead-letters',
    );
    table(
      'table-dlq-recent',
      [
        { key: 'at', label: 'dead-lettered at', html: (r) => esc(time(r.at)) },
        { key: 'reason', label: 'reason' },
        { key: 'detail', label: 'detail' },
      ],
      d.recent,
      'dead-letters-recent',
    );
  }
  const s = ok(schedule);
  if (s) {
    $('#schedule').innerHTML = s.exists
      ? `Schedule <a href="${esc(s.url)}" target="_blank" rel="noopener">${esc(s.id)}</a>:
         <b data-testid="schedule-state">${s.paused ? 'paused' : 'active'}</b>${s.note ? ` (${esc(s.note)})` : ''};
         next run ${esc(time((s.nextRuns as string[])[0]))} UTC`
      : `Schedule ${esc(s.id)} does not exist (./logpipe up creates it)`;
  }
  const r = ok(runs);
  if (r) {
    table(
      'table-runs',
      [
        {
          key: 'workflowId',
          label: 'run',
          html: (x) => `<a href="${esc(x.url)}" target="_blank" rel="noopener">${esc(x.workflowId)}</a>`,
        },
        {
          key: 'status',
          label: 'status',
          html: (x) => `<span class="badge ${esc(x.status)}">${esc(x.status)}</span>`,
        },
        { key: 'startTime', label: 'started (UTC)', html: (x) => esc(time(x.startTime)) },
        {
          key: 'durationMs',
          label: 'duration',
          num: true,
          html: (x) => `${fmt((x.durationMs as number) / 1000, 1)} s`,
        },
        { key: 'filesNew', label: 'files', num: true },
        { key: 'rowsLoaded', label: 'rows loaded', num: true },
        {
          key: 'quarantined',
          label: 'quarantined',
          num: true,
          html: (x) =>
            x.quarantined
              ? `<span class="badge WARN" title="lines in raw.rejected_lines">${esc(x.quarantined)}</span>`
              : esc(x.quarantined ?? '–'),
        },
        {
          key: 'dbt',
          label: 'dbt tests',
          html: (x) => {
            const dbt = x.dbt as
              | {
                  ran?: boolean;
                  reason?: string | null;
                  tests: number;
                  passed: number;
                  failed: string[];
                  warnings?: { name: string; failures: number | null }[];
                }
              | null
              | undefined;
            if (!dbt) return '–';
            if (dbt.ran === false)
              return `<span class="badge" title="${esc(dbt.reason ?? '')}">no build: nothing new</span>`;
            // Data-quality warnings (severity warn) are shown beside the count; they never fail a run.
            const warnings = dbt.warnings ?? [];
            const warned = warnings.length
              ? ` <span class="badge WARN" title="${esc(warnings.map((w) => `${w.name}: ${w.failures ?? '?'} rows`).join('\n'))}">${warnings.length} warning${warnings.length > 1 ? 's' : ''}</span>`
              : '';
            return `<span class="badge ${dbt.failed.length ? 'FAILED' : 'pass'}" title="${esc(dbt.failed.join('\n'))}">${dbt.passed}/${dbt.tests} passed</span>${warned}`;
          },
        },
        { key: 'failure', label: 'failure', html: (x) => esc(x.failure ?? '') },
      ],
      r.runs,
      'batch-runs',
    );
  }
  problem(problems.length ? problems.join(' · ') : undefined);
}

// ---------- Real-time events ----------

const live = {
  source: undefined as EventSource | undefined,
  paused: false,
  rows: [] as Row[],
  perMinute: new Map<number, number>(),
};

function eventsLayout(): string {
  const options = (xs: string[]) =>
    `<option value="">any</option>${xs.map((x) => `<option>${x}</option>`).join('')}`;
  return [
    section(
      'Filters',
      `<form class="filters" id="filters" onsubmit="return false">
        <label>type<select name="type" id="f-type">${options(TYPES)}</select></label>
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

const EVENT_COLUMNS: Column[] = [
  { key: 'timestamp', label: 'time (UTC)', html: (r) => esc(time(r.timestamp)) },
  { key: 'event_type', label: 'type' },
  { key: 'level', label: 'level', html: (r) => `<span class="lvl-${esc(r.level)}">${esc(r.level)}</span>` },
  { key: 'user_id', label: 'user' },
  { key: 'country', label: 'country' },
  { key: 'city', label: 'city' },
  { key: 'product_id', label: 'product' },
  { key: 'amount', label: 'amount', num: true },
  { key: 'error_code', label: 'error' },
  { key: 'query', label: 'query / message', html: (r) => esc(r.query ?? r.message ?? '') },
  { key: 'event_id', label: 'event id' },
];

function renderEvents(fresh = 0): void {
  table('table-events', EVENT_COLUMNS, live.rows, 'events');
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
    const rows = JSON.parse((ev as MessageEvent).data) as Row[];
    live.rows = rows.concat(live.rows).slice(0, 200);
    for (const r of rows) {
      const m = Math.floor(Date.parse(r.timestamp as string) / 60_000) * 60_000;
      live.perMinute.set(m, (live.perMinute.get(m) ?? 0) + 1);
    }
    renderEvents(rows.length);
    renderActivity();
  });
  source.onerror = () => {
    const el = document.getElementById('live-state');
    if (el) el.textContent = 'reconnecting';
  };
}

async function loadEvents(gen: number, reconnect: boolean): Promise<void> {
  const filters = eventFilters();
  const [events, activity] = await Promise.all([
    api<{ events: Row[] }>('/api/events', { ...filters, range: rangeValue(), limit: '200' }),
    filters.type || filters.level || filters.country || filters.user || filters.q
      ? Promise.resolve(undefined)
      : api<{ points: Row[] }>('/api/timeline', { range: '1h' }),
  ]);
  if (gen !== state.generation) return;
  live.rows = events.events;
  live.perMinute = new Map();
  if (activity)
    for (const p of activity.points) live.perMinute.set(Date.parse(p.t as string), p.total as number);
  else
    for (const r of live.rows) {
      const m = Math.floor(Date.parse(r.timestamp as string) / 60_000) * 60_000;
      live.perMinute.set(m, (live.perMinute.get(m) ?? 0) + 1);
    }
  renderEvents();
  renderActivity();
  if (reconnect && !live.paused) connectLive(filters);
  problem();
}

function setupEvents(): void {
  let debounce: number | undefined;
  const changed = () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => run(loadEvents(++state.generation, true)), 300);
  };
  $('#filters').addEventListener('input', changed);
  $('#filters').addEventListener('change', changed);
  $('#pause').addEventListener('click', () => {
    live.paused = !live.paused;
    $('#pause').textContent = live.paused ? 'Resume' : 'Pause';
    $('#live-state').textContent = live.paused ? 'paused' : 'live';
    if (live.paused) live.source?.close();
    else run(loadEvents(++state.generation, true));
  });
}

// ---------- Geography ----------

let worldRegistered = false;
const idToName = new Map<string, string>();

function registerWorld(): void {
  if (worldRegistered) return;
  const topo = world as unknown as Parameters<typeof feature>[0] & {
    objects: { countries: Parameters<typeof feature>[1] };
  };
  type Ring = [number, number][];
  const geo = feature(topo, topo.objects.countries) as unknown as {
    features: {
      id: string;
      properties: { name: string };
      geometry: { type: string; coordinates: Ring[] | Ring[][] };
    }[];
  };
  // A few parts (Chukotka, Fiji's eastern islands, Antarctica) cross the antimeridian: drawn on a
  // flat map they become lines across the world, so they are left out.
  const flat = (rings: Ring[]) => {
    const xs = (rings[0] ?? []).map((c) => c[0]);
    return Math.max(...xs) - Math.min(...xs) <= 180;
  };
  for (const f of geo.features) {
    idToName.set(String(f.id), f.properties.name);
    if (f.geometry.type === 'MultiPolygon')
      f.geometry.coordinates = (f.geometry.coordinates as Ring[][]).filter(flat);
  }
  echarts.registerMap('world', geo as never);
  worldRegistered = true;
}

function geoLayout(): string {
  return [
    section(
      'World map',
      `<div class="filters"><label>show<select id="geo-metric"><option value="events">events</option><option value="revenue">revenue (completed orders)</option><option value="errors">error events</option></select></label></div>
       <div class="chart map" id="chart-map" data-testid="map"></div>`,
      'wide',
    ),
    section('By country', '<div id="table-countries" class="scroll"></div>', '', true),
    section('By city', '<div id="table-cities" class="scroll"></div>', '', true),
  ].join('');
}

async function loadGeo(gen: number): Promise<void> {
  registerWorld();
  const data = await api<{ countries: Row[]; cities: Row[] }>('/api/geo', { range: rangeValue() });
  if (gen !== state.generation) return;
  const metric = ($('#geo-metric') as HTMLSelectElement).value;
  const values = data.countries.map((c) => ({
    name: idToName.get(COUNTRY_IDS[c.country as string] ?? '') ?? String(c.country),
    value: c[metric] as number,
  }));
  const max = Math.max(1, ...values.map((v) => v.value));
  chart('chart-map').setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'item',
        formatter: (p: { name: string; value: number }) => `${p.name}: ${fmt(p.value ?? 0, 2)}`,
      },
      visualMap: {
        min: 0,
        max,
        left: 10,
        bottom: 10,
        calculable: true,
        inRange: { color: ['#dbe8ff', '#1f5fd6'] },
      },
      series: [
        {
          type: 'map',
          map: 'world',
          roam: true,
          layoutCenter: ['50%', '50%'],
          layoutSize: '180%',
          name: metric,
          emphasis: { label: { show: false } },
          itemStyle: { areaColor: '#eef1f5', borderColor: '#b7c0cf' },
          data: values,
        },
      ],
    },
    true,
  );
  table(
    'table-countries',
    [
      { key: 'country', label: 'country' },
      { key: 'events', label: 'events', num: true },
      { key: 'orders_completed', label: 'completed orders', num: true },
      { key: 'revenue', label: 'revenue', num: true, html: (r) => money(r.revenue) },
      { key: 'errors', label: 'errors', num: true },
    ],
    data.countries,
    'geo-countries',
  );
  table(
    'table-cities',
    [
      { key: 'country', label: 'country' },
      { key: 'city', label: 'city' },
      { key: 'events', label: 'events', num: true },
      { key: 'revenue', label: 'revenue', num: true, html: (r) => money(r.revenue) },
      { key: 'errors', label: 'errors', num: true },
    ],
    data.cities,
    'geo-cities',
  );
  problem();
}

// ---------- Analytics ----------

function analyticsLayout(): string {
  return [
    section(
      'Warehouse (dbt marts)',
      `<div class="kpis">${kpi('kpi-revenue', 'revenue (completed orders)')}${kpi('kpi-orders', 'completed orders')}${kpi('kpi-aov', 'average order value')}${kpi('kpi-conversion', 'session conversion')}</div>`,
      'wide',
    ),
    section(
      'Revenue per day',
      '<div class="chart" id="chart-revenue"></div><div id="table-revenue" class="scroll"></div>',
      '',
      true,
    ),
    section(
      'Orders by status',
      '<div class="chart" id="chart-status"></div><div id="table-status"></div>',
      '',
      true,
    ),
    section(
      'Session funnel',
      '<div class="chart" id="chart-funnel"></div><div id="table-funnel"></div>',
      '',
      true,
    ),
    section(
      'Revenue by category',
      '<div class="chart" id="chart-categories"></div><div id="table-categories"></div>',
      '',
      true,
    ),
    section('Top products', '<div id="table-products" class="scroll"></div>', '', true),
    section('Users by city (average age)', '<div id="table-users" class="scroll"></div>', '', true),
  ].join('');
}

async function loadAnalytics(gen: number): Promise<void> {
  const range = rangeValue();
  const [revenue, orders, funnel, products, users] = await Promise.all([
    api<{ days: Row[]; totals: Row }>('/api/analytics/revenue', { range }),
    api<{ byStatus: Row[] }>('/api/analytics/orders', { range }),
    api<{ days: Row[]; totals: Record<string, number> }>('/api/analytics/funnel', { range }),
    api<{ top: Row[]; categories: Row[] }>('/api/analytics/products', { range, limit: '20' }),
    api<{ cities: Row[] }>('/api/analytics/users', { limit: '100' }),
  ]);
  if (gen !== state.generation) return;
  setKpi('kpi-revenue', money(revenue.totals.revenue), revenue.totals.revenue as number);
  setKpi('kpi-orders', fmt(revenue.totals.orders_completed), revenue.totals.orders_completed as number);
  setKpi('kpi-aov', money(revenue.totals.average_order_value));
  const conv = funnel.totals.overall_conversion_rate;
  setKpi('kpi-conversion', conv === null || conv === undefined ? '–' : `${fmt(conv * 100, 1)} %`);
  chart('chart-revenue').setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 70, right: 20, top: 20, bottom: 30 },
      xAxis: { type: 'category', data: revenue.days.map((d) => d.date) },
      yAxis: { type: 'value' },
      series: [{ type: 'line', name: 'revenue', data: revenue.days.map((d) => d.revenue), areaStyle: {} }],
    },
    true,
  );
  table(
    'table-revenue',
    [
      { key: 'date', label: 'day' },
      { key: 'revenue', label: 'revenue', num: true, html: (r) => money(r.revenue) },
      { key: 'orders_completed', label: 'completed', num: true },
      { key: 'orders_failed', label: 'failed', num: true },
      { key: 'units_sold', label: 'units', num: true },
      { key: 'average_order_value', label: 'AOV', num: true, html: (r) => money(r.average_order_value) },
    ],
    revenue.days,
    'revenue-daily',
  );
  chart('chart-status').setOption(
    {
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['35%', '65%'],
          data: orders.byStatus.map((s) => ({ name: s.status, value: s.lines })),
        },
      ],
    },
    true,
  );
  table(
    'table-status',
    [
      { key: 'status', label: 'status' },
      { key: 'orders', label: 'orders', num: true },
      { key: 'lines', label: 'order lines', num: true },
      { key: 'amount', label: 'amount', num: true, html: (r) => money(r.amount) },
    ],
    orders.byStatus,
    'orders-by-status',
  );
  const t = funnel.totals;
  const stages = [
    ['sessions', t.sessions],
    ['searched', t.searched],
    ['purchased', t.purchased],
    ['ordered', t.ordered],
    ['completed', t.completed],
  ] as const;
  chart('chart-funnel').setOption(
    {
      animation: false,
      tooltip: { trigger: 'item' },
      series: [
        {
          type: 'funnel',
          sort: 'none',
          left: '10%',
          width: '80%',
          data: stages.map(([name, value]) => ({ name, value })),
        },
      ],
    },
    true,
  );
  table(
    'table-funnel',
    [
      { key: 'date', label: 'day' },
      { key: 'sessions', label: 'sessions', num: true },
      { key: 'searched', label: 'searched', num: true },
      { key: 'purchased', label: 'purchased', num: true },
      { key: 'ordered', label: 'ordered', num: true },
      { key: 'completed', label: 'completed', num: true },
      { key: 'failed', label: 'failed', num: true },
    ],
    funnel.days,
    'session-funnel',
  );
  chart('chart-categories').setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 110, right: 20, top: 10, bottom: 30 },
      yAxis: { type: 'category', data: products.categories.map((c) => c.category).reverse() },
      xAxis: { type: 'value' },
      series: [{ type: 'bar', data: products.categories.map((c) => c.revenue).reverse() }],
    },
    true,
  );
  table(
    'table-categories',
    [
      { key: 'category', label: 'category' },
      { key: 'revenue', label: 'revenue', num: true, html: (r) => money(r.revenue) },
      { key: 'orders_completed', label: 'completed', num: true },
      { key: 'units_sold', label: 'units', num: true },
    ],
    products.categories,
    'categories',
  );
  table(
    'table-products',
    [
      { key: 'product_id', label: 'product' },
      { key: 'product_name', label: 'name' },
      { key: 'category', label: 'category' },
      { key: 'units', label: 'units', num: true },
      { key: 'revenue', label: 'revenue', num: true, html: (r) => money(r.revenue) },
    ],
    products.top,
    'top-products',
  );
  table(
    'table-users',
    [
      { key: 'country', label: 'country' },
      { key: 'city', label: 'city' },
      { key: 'users', label: 'users', num: true },
      { key: 'average_age', label: 'average age', num: true },
    ],
    users.cities,
    'users-by-city',
  );
  problem();
}

// ---------- Routing and refresh ----------

const PAGES: Record<string, { layout: () => string; load: (gen: number, first: boolean) => Promise<void> }> =
  {
    monitoring: { layout: monitoringLayout, load: (g) => loadMonitoring(g) },
    events: { layout: eventsLayout, load: (g, first) => loadEvents(g, first) },
    geo: { layout: geoLayout, load: (g) => loadGeo(g) },
    analytics: { layout: analyticsLayout, load: (g) => loadAnalytics(g) },
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
  if (!first && state.page === 'events') return;
  run(page.load(++state.generation, first));
}

function schedule(): void {
  clearInterval(state.timer);
  const s = Number(($('#refresh') as HTMLSelectElement).value);
  if (s > 0) state.timer = window.setInterval(() => refresh(), s * 1000);
}

function show(): void {
  const name = (location.hash.replace(/^#\//, '') || 'monitoring').split('?')[0] as string;
  state.page = PAGES[name] ? name : 'monitoring';
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', (a as HTMLElement).dataset.page === state.page);
  live.source?.close();
  live.source = undefined;
  live.paused = false;
  for (const c of state.charts.values()) c.dispose();
  state.charts.clear();
  delete document.body.dataset.loaded;
  ($('#page') as HTMLElement).innerHTML = (PAGES[state.page] as (typeof PAGES)[string]).layout();
  if (state.page === 'events') setupEvents();
  if (state.page === 'geo') $('#geo-metric').addEventListener('change', () => refresh(true));
  refresh(true);
}

window.addEventListener('hashchange', show);
window.addEventListener('resize', () => {
  for (const c of state.charts.values()) c.resize();
});
$('#range').addEventListener('change', () => refresh(true));
$('#refresh').addEventListener('change', schedule);
show();
schedule();
