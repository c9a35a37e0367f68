// The JSON API's answers, defined once: the server modules that build them are typed against these,
// and so is the page (web/api.ts), which esbuild bundles with type-only imports of this file.
// ApiAnswers maps every path to its answer, so a route that answers another shape does not compile.
import type { HourReport } from '../lib/reconcile-report.ts';

export interface RangeAnswer {
  from: string;
  to: string;
}

export interface ServiceHealth {
  name: string;
  state: 'up' | 'down';
  reason?: string;
  latencyMs: number;
  detail?: Record<string, unknown>;
}

export interface HealthAnswer {
  checkedAt: string;
  services: ServiceHealth[];
}

export interface OverviewAnswer extends RangeAnswer {
  events: number;
  byType: Record<string, number>;
  byLevel: Record<string, number>;
  revenue: number;
  errors: number;
  countries: number;
}

/** One bucket of the timeline: its start, a count per event type and their total. */
export interface TimelinePoint {
  t: string;
  total: number;
  [eventType: string]: number | string;
}

export interface TimelineAnswer extends RangeAnswer {
  bucket: 'minute' | 'hour';
  types: readonly string[];
  points: TimelinePoint[];
}

export interface ErrorCodeCount {
  error_code: string;
  errors: number;
}

export interface ErrorsAnswer extends RangeAnswer {
  errors: number;
  byCode: ErrorCodeCount[];
}

export interface CountryGeo {
  country: string;
  events: number;
  revenue: number;
  orders_completed: number;
  errors: number;
}

export interface CityGeo {
  country: string;
  city: string;
  events: number;
  revenue: number;
  errors: number;
}

export interface GeoAnswer extends RangeAnswer {
  countries: CountryGeo[];
  cities: CityGeo[];
}

export interface EventRow {
  event_id: string;
  timestamp: string;
  event_type: string;
  level: string;
  service: string;
  user_id: string;
  session_id: string;
  product_id: string;
  device_type: string;
  country: string;
  city: string;
  amount: number | null;
  order_id: string | null;
  query: string | null;
  error_code: string | null;
  message: string | null;
}

export interface EventsAnswer extends RangeAnswer {
  count: number;
  scanned: number;
  events: EventRow[];
}

export interface IngestionAnswer {
  workers: { url: string; up: boolean; error?: string }[];
  consumedTotal: number;
  writtenTotal: Record<string, number>;
  deadLetteredTotal: Record<string, number>;
  sinkErrorsTotal: Record<string, number>;
  lagFromMetrics: Record<string, number>;
  batchMeanSeconds: number | null;
  ratePerSecond: number | null;
  rateWindowSeconds: number | null;
}

export interface PartitionLag {
  partition: number;
  high: number;
  committed: number | null;
  lag: number;
}

export interface LagAnswer {
  topic: string;
  group: string;
  partitions: PartitionLag[];
  total: number;
}

export interface DeadLetter {
  reason: string;
  detail: string;
  source: string;
  at: string;
}

export interface DeadLettersAnswer {
  topic: string;
  inTopic: number;
  read: number;
  caughtUp: boolean;
  byReason: { reason: string; messages: number }[];
  recent: DeadLetter[];
  error?: string;
}

export interface DbtSummary {
  /** False when the run had nothing new for dbt (older runs' results have no such field: true). */
  ran: boolean;
  reason: string | null;
  models: number | null;
  tests: number;
  passed: number;
  warned: number;
  /** Source-data anomalies found by severity-warn tests, with how many rows each found. */
  warnings: { name: string; failures: number | null }[];
  failed: string[];
}

/** What a closed run returned: a failure, or what it loaded (nothing while it runs). */
export interface BatchRunOutcome {
  failure?: string;
  filesNew?: number | null;
  rowsLoaded?: number | null;
  duplicates?: number | null;
  /** Lines quarantined in raw.rejected_lines by this run. */
  quarantined?: number | null;
  perTable?: Record<string, number>;
  steps?: { step: string; ms: number }[];
  dbt?: DbtSummary | null;
}

export interface BatchRun extends BatchRunOutcome {
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  durationMs: number;
  url: string;
}

/** One hour of the reconciliation ledger the batch records (the same report as `logpipe reconcile --json`). */
export interface LedgerHour extends HourReport {
  checkedAt: string;
}

export interface ReconcileAnswer {
  hours: LedgerHour[];
  /** Every event before this instant is in the marts (null: no hour complete yet). */
  watermark: { completeUntil: string | null };
}

export interface BatchRunsAnswer {
  runs: BatchRun[];
  temporalUi: string;
}

export type ScheduleAnswer =
  | {
      id: string;
      exists: true;
      paused: boolean;
      note: string | null;
      nextRuns: string[];
      recent: { scheduledAt: string; workflowId: string; url: string }[];
      runningWorkflows: string[];
      url: string;
    }
  | { id: string; exists: false; paused: null; note: null; nextRuns: string[]; recent: never[] };

export interface RevenueDay {
  date: string;
  revenue: number;
  orders_completed: number;
  orders_failed: number;
  purchases: number;
  units_sold: number;
  failed_amount: number;
  average_order_value: number | null;
}

export interface RevenueAnswer {
  from: string;
  to: string;
  days: RevenueDay[];
  totals: {
    revenue: number;
    orders_completed: number;
    orders_failed: number;
    units_sold: number;
    average_order_value: number | null;
  };
}

export interface OrderStatus {
  status: string;
  orders: number;
  lines: number;
  amount: number;
}

export interface OrdersAnswer {
  byStatus: OrderStatus[];
}

export interface FunnelCounts {
  sessions: number;
  searched: number;
  purchased: number;
  ordered: number;
  completed: number;
  failed: number;
}

export interface FunnelAnswer {
  days: (FunnelCounts & { date: string })[];
  totals: FunnelCounts & {
    search_to_purchase_rate: number | null;
    purchase_to_order_rate: number | null;
    order_completion_rate: number | null;
    overall_conversion_rate: number | null;
  };
}

export interface TopProduct {
  product_id: string;
  product_name: string | null;
  category: string | null;
  brand: string | null;
  units: number;
  orders: number;
  revenue: number;
}

export interface CategoryRevenue {
  category: string;
  revenue: number;
  orders_completed: number;
  orders_failed: number;
  units_sold: number;
}

export interface ProductsAnswer {
  top: TopProduct[];
  categories: CategoryRevenue[];
}

export interface UsersCity {
  country: string;
  city: string;
  users: number;
  average_age: number | null;
}

export interface UsersAnswer {
  cities: UsersCity[];
}

/** Every JSON endpoint and its answer (the event stream, /api/events/stream, sends EventRow[]). */
export interface ApiAnswers {
  '/healthz': { ok: true };
  '/api/health': HealthAnswer;
  '/api/overview': OverviewAnswer;
  '/api/timeline': TimelineAnswer;
  '/api/errors': ErrorsAnswer;
  '/api/geo': GeoAnswer;
  '/api/events': EventsAnswer;
  '/api/ingestion': IngestionAnswer;
  '/api/lag': LagAnswer;
  '/api/dead-letters': DeadLettersAnswer;
  '/api/batch/runs': BatchRunsAnswer;
  '/api/batch/schedule': ScheduleAnswer;
  '/api/reconcile': ReconcileAnswer;
  '/api/analytics/revenue': RevenueAnswer;
  '/api/analytics/orders': OrdersAnswer;
  '/api/analytics/funnel': FunnelAnswer;
  '/api/analytics/products': ProductsAnswer;
  '/api/analytics/users': UsersAnswer;
}

export type ApiPath = keyof ApiAnswers;
