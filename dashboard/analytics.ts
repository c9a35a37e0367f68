// The Analytics page's reads of the warehouse marts (dbt's star schema in WAREHOUSE_SCHEMA).
// Every query is parameterised; the schema name comes from the validated configuration and is
// quoted as an identifier.
import type pg from 'pg';
import type { Config } from '../lib/config.ts';
import { errorField, errorMessage } from '../lib/errors.ts';
import type { FunnelAnswer, OrdersAnswer, ProductsAnswer, RevenueAnswer, UsersAnswer } from './api-types.ts';
import type { TimeRange } from './params.ts';
import { SwrCache } from './swr.ts';

/** The marts' schema (WAREHOUSE_SCHEMA, validated by lib/config.ts). */
export const warehouseSchema = (config: Pick<Config, 'WAREHOUSE_SCHEMA'>): string => config.WAREHOUSE_SCHEMA;

export class MartsMissing extends Error {
  constructor(schema: string, detail: string) {
    super(`the warehouse marts are not built in schema "${schema}" yet (${detail}): run ./logpipe dbt build`);
    this.name = 'MartsMissing';
  }
}

/** A row as pg returns it: text columns, and sums and counts (numeric, bigint: text) that may be NULL. */
type PgRow<Text extends string, MaybeNull extends string = never> = { [k in Text]: string } & {
  [k in MaybeNull]: string | null;
};

const day = (d: Date) => d.toISOString().slice(0, 10);
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const rate = (a: number, b: number) => (b ? Math.round((a / b) * 10_000) / 10_000 : null);

export class Analytics {
  private readonly s: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.s = `"${schema.replaceAll('"', '')}"`;
    this.schema = schema;
  }

  private readonly schema: string;

  // The marts change when the batch runs dbt (every 10 minutes): answers are kept 30 s, and served
  // up to 5 minutes old while one refresh runs.
  private readonly cache = new SwrCache<pg.QueryResultRow[]>(30_000, 5 * 60_000);

  private async q<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
    return (await this.cache.get(JSON.stringify([sql, values]), () => this.query<T>(sql, values))) as T[];
  }

  private async query<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, values)).rows;
    } catch (err) {
      // 42P01 undefined table, 3F000 undefined schema.
      const code = errorField(err, 'code');
      if (code === '42P01' || code === '3F000') throw new MartsMissing(this.schema, errorMessage(err));
      throw err;
    }
  }

  /** Revenue per day from revenue_daily (dates by order day, UTC). */
  async revenue(r: TimeRange): Promise<RevenueAnswer> {
    const rows = await this.q<
      PgRow<
        'date',
        'revenue' | 'orders_completed' | 'orders_failed' | 'purchases' | 'units_sold' | 'failed_amount'
      >
    >(
      `SELECT order_date::text AS date,
              sum(revenue) AS revenue, sum(orders_completed) AS orders_completed,
              sum(orders_failed) AS orders_failed, sum(purchases) AS purchases,
              sum(units_sold) AS units_sold, sum(failed_amount) AS failed_amount
         FROM ${this.s}.revenue_daily
        WHERE order_date >= $1::date AND order_date <= $2::date
        GROUP BY order_date ORDER BY order_date`,
      [day(r.from), day(r.to)],
    );
    const days = rows.map((x) => ({
      date: x.date,
      revenue: num(x.revenue),
      orders_completed: num(x.orders_completed),
      orders_failed: num(x.orders_failed),
      purchases: num(x.purchases),
      units_sold: num(x.units_sold),
      failed_amount: num(x.failed_amount),
      average_order_value: x.orders_completed
        ? Math.round((num(x.revenue) / num(x.orders_completed)) * 100) / 100
        : null,
    }));
    const t = days.reduce(
      (a, d) => ({
        revenue: a.revenue + d.revenue,
        orders_completed: a.orders_completed + d.orders_completed,
        orders_failed: a.orders_failed + d.orders_failed,
        units_sold: a.units_sold + d.units_sold,
      }),
      { revenue: 0, orders_completed: 0, orders_failed: 0, units_sold: 0 },
    );
    return {
      from: day(r.from),
      to: day(r.to),
      days,
      totals: {
        ...t,
        revenue: Math.round(t.revenue * 100) / 100,
        average_order_value: t.orders_completed
          ? Math.round((t.revenue / t.orders_completed) * 100) / 100
          : null,
      },
    };
  }

  /** Order lines and orders by status from fact_orders. */
  async ordersByStatus(r: TimeRange): Promise<OrdersAnswer> {
    const rows = await this.q<PgRow<'status', 'orders' | 'lines' | 'amount'>>(
      `SELECT status, count(DISTINCT order_id) AS orders, count(*) AS lines, sum(amount) AS amount
         FROM ${this.s}.fact_orders
        WHERE order_date >= $1::date AND order_date <= $2::date
        GROUP BY status ORDER BY status`,
      [day(r.from), day(r.to)],
    );
    return {
      byStatus: rows.map((x) => ({
        status: x.status,
        orders: num(x.orders),
        lines: num(x.lines),
        amount: Math.round(num(x.amount) * 100) / 100,
      })),
    };
  }

  /** The session funnel per day and over the range. */
  async funnel(r: TimeRange): Promise<FunnelAnswer> {
    const rows = await this.q<
      PgRow<'date', 'sessions' | 'searched' | 'purchased' | 'ordered' | 'completed' | 'failed'>
    >(
      `SELECT session_date::text AS date, sessions, searched, purchased, ordered, completed, failed
         FROM ${this.s}.session_funnel_daily
        WHERE session_date >= $1::date AND session_date <= $2::date
        ORDER BY session_date`,
      [day(r.from), day(r.to)],
    );
    const days = rows.map((x) => ({
      date: x.date,
      sessions: num(x.sessions),
      searched: num(x.searched),
      purchased: num(x.purchased),
      ordered: num(x.ordered),
      completed: num(x.completed),
      failed: num(x.failed),
    }));
    const t = days.reduce(
      (a, d) => {
        for (const k of ['sessions', 'searched', 'purchased', 'ordered', 'completed', 'failed'] as const)
          a[k] += d[k];
        return a;
      },
      { sessions: 0, searched: 0, purchased: 0, ordered: 0, completed: 0, failed: 0 },
    );
    return {
      days,
      totals: {
        ...t,
        search_to_purchase_rate: rate(t.purchased, t.searched),
        purchase_to_order_rate: rate(t.ordered, t.purchased),
        order_completion_rate: rate(t.completed, t.ordered),
        overall_conversion_rate: rate(t.completed, t.sessions),
      },
    };
  }

  /** Best-selling products (completed order lines) and revenue by category. */
  async products(r: TimeRange, limit: number): Promise<ProductsAnswer> {
    const [top, categories] = await Promise.all([
      this.q<PgRow<'product_id', 'product_name' | 'category' | 'brand' | 'units' | 'orders' | 'revenue'>>(
        `SELECT f.product_id, p.product_name, p.category, p.brand,
                sum(f.quantity) AS units, count(DISTINCT f.order_id) AS orders, sum(f.amount) AS revenue
           FROM ${this.s}.fact_orders f
           LEFT JOIN ${this.s}.dim_products p ON p.product_version_key = f.product_version_key
          WHERE f.status = 'completed' AND f.order_date >= $1::date AND f.order_date <= $2::date
          GROUP BY f.product_id, p.product_name, p.category, p.brand
          ORDER BY revenue DESC NULLS LAST, f.product_id
          LIMIT $3`,
        [day(r.from), day(r.to), limit],
      ),
      this.q<PgRow<'category', 'revenue' | 'orders_completed' | 'units_sold' | 'orders_failed'>>(
        `SELECT category, sum(revenue) AS revenue, sum(orders_completed) AS orders_completed,
                sum(units_sold) AS units_sold, sum(orders_failed) AS orders_failed
           FROM ${this.s}.revenue_daily
          WHERE order_date >= $1::date AND order_date <= $2::date
          GROUP BY category ORDER BY revenue DESC NULLS LAST, category`,
        [day(r.from), day(r.to)],
      ),
    ]);
    return {
      top: top.map((x) => ({
        product_id: x.product_id,
        product_name: x.product_name ?? null,
        category: x.category ?? null,
        brand: x.brand ?? null,
        units: num(x.units),
        orders: num(x.orders),
        revenue: Math.round(num(x.revenue) * 100) / 100,
      })),
      categories: categories.map((x) => ({
        category: x.category,
        revenue: Math.round(num(x.revenue) * 100) / 100,
        orders_completed: num(x.orders_completed),
        orders_failed: num(x.orders_failed),
        units_sold: num(x.units_sold),
      })),
    };
  }

  /** Known users by city with their average age (dim_users). */
  async usersByCity(limit: number): Promise<UsersAnswer> {
    const rows = await this.q<PgRow<'country' | 'city', 'users' | 'average_age'>>(
      `SELECT country, city, count(*) AS users, round(avg(age)::numeric, 1) AS average_age
         FROM ${this.s}.dim_users
        WHERE is_known
        GROUP BY country, city
        ORDER BY users DESC, country, city
        LIMIT $1`,
      [limit],
    );
    return {
      cities: rows.map((x) => ({
        country: x.country,
        city: x.city,
        users: num(x.users),
        average_age: x.average_age === null ? null : Number(x.average_age),
      })),
    };
  }
}
