// Geography: the world map coloured by events, revenue or errors, and the counts by country and city.
import { api } from '../api.ts';
import { chart } from '../charts.ts';
import { fmt } from '../format.ts';
import { type Load, type Page, rangeValue } from '../page.ts';
import { $, problem, section, table } from '../ui.ts';
import { countryName, registerWorld } from '../world-map.ts';

function layout(): string {
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

async function load({ stale }: Load): Promise<void> {
  registerWorld();
  const data = await api('/api/geo', { range: rangeValue() });
  if (stale()) return;
  const metric = ($('#geo-metric') as HTMLSelectElement).value as 'events' | 'revenue' | 'errors';
  const values = data.countries.map((c) => ({ name: countryName(c.country), value: c[metric] }));
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
    (c) => [
      c.text('country'),
      c.num('events'),
      c.num('orders_completed', 'completed orders'),
      c.money('revenue'),
      c.num('errors'),
    ],
    data.countries,
    'geo-countries',
  );
  table(
    'table-cities',
    (c) => [c.text('country'), c.text('city'), c.num('events'), c.money('revenue'), c.num('errors')],
    data.cities,
    'geo-cities',
  );
  problem();
}

export const geoPage: Page = {
  layout,
  setup: (reload) => $('#geo-metric').addEventListener('change', reload),
  load,
};
