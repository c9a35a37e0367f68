// ECharts with only the charts the pages draw (SVG renderer), and the page's charts by element id:
// a chart is made once per element and disposed of when its page is left.
import { BarChart, FunnelChart, LineChart, MapChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { type ECharts, init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

use([
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

const charts = new Map<string, ECharts>();

export function chart(id: string): ECharts {
  const el = document.getElementById(id) as HTMLElement;
  let c = charts.get(id);
  if (!c || c.getDom() !== el) {
    c?.dispose();
    c = init(el, undefined, { renderer: 'svg' });
    charts.set(id, c);
  }
  return c;
}

export function disposeCharts(): void {
  for (const c of charts.values()) c.dispose();
  charts.clear();
}

export function resizeCharts(): void {
  for (const c of charts.values()) c.resize();
}
