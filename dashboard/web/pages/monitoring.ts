// Pipeline monitoring: the services, ingestion KPIs, the timeline by event type, consumer lag,
// error codes, dead letters by reason, the batch runs and schedule from Temporal, and the
// reconciliation ledger (per event hour, each store's events and drift against HDFS). Each panel
// shows what answered; what did not is named in the problem banner.
import { errorMessage } from '../../../lib/errors.ts';
import { api } from '../api.ts';
import { chart } from '../charts.ts';
import { fmt, time } from '../format.ts';
import { type Load, type Page, rangeValue } from '../page.ts';
import { $, esc, kpi, problem, section, setKpi, table } from '../ui.ts';

function layout(): string {
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
    section(
      'Reconciliation per event hour (ledger of the batch runs)',
      '<div id="watermark" class="note"></div><div id="table-reconcile" class="scroll"></div>',
      'wide',
      true,
    ),
  ].join('');
}

async function load({ stale }: Load): Promise<void> {
  const range = rangeValue();
  const [health, overview, timelineData, errors, lag, ingestion, dlq, runs, schedule, ledger] =
    await Promise.allSettled([
      api('/api/health'),
      api('/api/overview', { range }),
      api('/api/timeline', { range }),
      api('/api/errors', { range }),
      api('/api/lag'),
      api('/api/ingestion'),
      api('/api/dead-letters'),
      api('/api/batch/runs', { limit: '10' }),
      api('/api/batch/schedule'),
      api('/api/reconcile', { limit: '48' }),
    ]);
  if (stale()) return;
  const problems: string[] = [];
  const ok = <T>(r: PromiseSettledResult<T>): T | undefined => {
    if (r.status === 'fulfilled') return r.value;
    problems.push(errorMessage(r.reason));
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
            Object.entries(s.detail ?? {})
              .filter(([, v]) => v !== null && v !== undefined)
              .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.length : v}`)
              .join(' · '),
          )} · ${fmt(s.latencyMs)} ms</div></div>`,
      )
      .join('');
  }
  const o = ok(overview);
  if (o) setKpi('kpi-events', fmt(o.events), o.events);
  const i = ok(ingestion);
  if (i) {
    setKpi('kpi-rate', i.ratePerSecond === null ? '…' : fmt(i.ratePerSecond));
    setKpi('kpi-consumed', fmt(i.consumedTotal), i.consumedTotal);
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
        series: t.types.map((type) => ({
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
      (c) => [c.text('error_code', 'code'), c.num('errors', 'events')],
      e.byCode,
      'errors-by-code',
    );
  }
  const l = ok(lag);
  if (l) {
    setKpi('kpi-lag', fmt(l.total), l.total);
    table(
      'table-lag',
      (c) => [c.num('partition'), c.num('high', 'end offset'), c.num('committed'), c.num('lag')],
      l.partitions,
      'consumer-lag',
    );
  }
  const d = ok(dlq);
  if (d) {
    setKpi('kpi-dlq', fmt(d.read), d.read);
    table('table-dlq', (c) => [c.text('reason'), c.num('messages')], d.byReason, 'dead-letters');
    table(
      'table-dlq-recent',
      (c) => [
        { key: 'at', label: 'dead-lettered at', html: (r) => esc(time(r.at)) },
        c.text('reason'),
        c.text('detail'),
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
         next run ${esc(time(s.nextRuns[0]))} UTC`
      : `Schedule ${esc(s.id)} does not exist (./logpipe up creates it)`;
  }
  const r = ok(runs);
  if (r) {
    table(
      'table-runs',
      (c) => [
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
          html: (x) => `${fmt(x.durationMs / 1000, 1)} s`,
        },
        c.num('filesNew', 'files'),
        c.num('rowsLoaded', 'rows loaded'),
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
            const dbt = x.dbt;
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
  const rec = ok(ledger);
  if (rec) {
    $('#watermark').innerHTML = rec.watermark.completeUntil
      ? `Marts complete up to <b data-testid="watermark">${esc(time(rec.watermark.completeUntil))}</b> UTC (every earlier hour closed, with no drift in PostgreSQL or the marts)`
      : 'No hour reconciled as complete yet';
    const rows = rec.hours.map((x) => ({
      hour: x.hour,
      state: x.closed ? 'closed' : 'open',
      ...x.counts,
      drift:
        x.drift.cassandra || x.drift.postgres || x.drift.marts
          ? `cassandra ${x.drift.cassandra}, postgres ${x.drift.postgres}, marts ${x.drift.marts}`
          : '',
    }));
    table(
      'table-reconcile',
      (c) => [
        c.text('hour', 'hour (UTC)'),
        c.text('state'),
        c.num('hdfs', 'HDFS'),
        c.num('cassandra'),
        c.num('postgres', 'raw tables'),
        c.num('marts', 'fact_events'),
        c.num('dead_letters', 'dead letters'),
        c.num('quarantined'),
        {
          key: 'drift',
          label: 'drift vs HDFS',
          html: (x) =>
            x.drift
              ? `<span class="badge ${x.state === 'closed' ? 'FAILED' : 'WARN'}" data-testid="drift">${esc(x.drift)}</span>`
              : '<span class="badge pass">none</span>',
        },
      ],
      rows,
      'reconciliation',
    );
  }
  problem(problems.length ? problems.join(' · ') : undefined);
}

export const monitoringPage: Page = { layout, load };
