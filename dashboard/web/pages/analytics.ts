// Analytics: the warehouse marts built by dbt (revenue, orders by status, the session funnel,
// categories, top products, users by city).
import { api } from '../api.ts';
import { chart } from '../charts.ts';
import { fmt, money } from '../format.ts';
import { type Load, type Page, rangeValue } from '../page.ts';
import { kpi, problem, section, setKpi, table } from '../ui.ts';

function layout(): string {
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

async function load({ stale }: Load): Promise<void> {
  const range = rangeValue();
  const [revenue, orders, funnel, products, users] = await Promise.all([
    api('/api/analytics/revenue', { range }),
    api('/api/analytics/orders', { range }),
    api('/api/analytics/funnel', { range }),
    api('/api/analytics/products', { range, limit: '20' }),
    api('/api/analytics/users', { limit: '100' }),
  ]);
  if (stale()) return;
  setKpi('kpi-revenue', money(revenue.totals.revenue), revenue.totals.revenue);
  setKpi('kpi-orders', fmt(revenue.totals.orders_completed), revenue.totals.orders_completed);
  setKpi('kpi-aov', money(revenue.totals.average_order_value));
  const conv = funnel.totals.overall_conversion_rate;
  setKpi('kpi-conversion', conv === null ? '–' : `${fmt(conv * 100, 1)} %`);
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
    (c) => [
      c.text('date', 'day'),
      c.money('revenue'),
      c.num('orders_completed', 'completed'),
      c.num('orders_failed', 'failed'),
      c.num('units_sold', 'units'),
      c.money('average_order_value', 'AOV'),
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
    (c) => [c.text('status'), c.num('orders'), c.num('lines', 'order lines'), c.money('amount')],
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
    (c) => [
      c.text('date', 'day'),
      c.num('sessions'),
      c.num('searched'),
      c.num('purchased'),
      c.num('ordered'),
      c.num('completed'),
      c.num('failed'),
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
    (c) => [
      c.text('category'),
      c.money('revenue'),
      c.num('orders_completed', 'completed'),
      c.num('units_sold', 'units'),
    ],
    products.categories,
    'categories',
  );
  table(
    'table-products',
    (c) => [
      c.text('product_id', 'product'),
      c.text('product_name', 'name'),
      c.text('category'),
      c.num('units'),
      c.money('revenue'),
    ],
    products.top,
    'top-products',
  );
  table(
    'table-users',
    (c) => [c.text('country'), c.text('city'), c.num('users'), c.num('average_age', 'average age')],
    users.cities,
    'users-by-city',
  );
  problem();
}

export const analyticsPage: Page = { layout, load };
