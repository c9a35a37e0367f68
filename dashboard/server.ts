// The dashboard's HTTP server: the single-page app (bundled at startup with esbuild, nothing from a
// CDN), a read-only JSON API behind every panel, and a server-sent-events stream of new events.
// Bound to DASHBOARD_HOST (127.0.0.1 by default). Read-only: the server answers only GET and HEAD,
// its PostgreSQL sessions are read-only (PostgreSQL refuses writes on them), it only SELECTs from
// Cassandra, and it only reads Kafka (the dead-letter topic with its own group, committing nothing).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type cassandraDriver from 'cassandra-driver';
import type pg from 'pg';
import { createCassandra } from '../lib/clients/cassandra.ts';
import { createKafka } from '../lib/clients/kafka.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import type { Config } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { Analytics, MartsMissing, warehouseSchema } from './analytics.ts';
import type { ApiAnswers, ApiPath } from './api-types.ts';
import { type Assets, buildAssets } from './assets.ts';
import { errorsByCode, geo, overview, timeline } from './event-answers.ts';
import { EventsStore } from './events-store.ts';
import { allowedHosts, hostAllowed } from './host-check.ts';
import { liveTail } from './live-tail.ts';
import { Monitoring, withTimeout } from './monitoring/index.ts';
import {
  BadRequest,
  EVENT_TYPES,
  eventFilterParams,
  limitParams,
  noParams,
  rangeLimitParams,
  rangeParams,
} from './params.ts';
import { SwrCache } from './swr.ts';

type Handler = (query: URLSearchParams) => Promise<unknown>;
/** One handler per endpoint, answering that endpoint's type (dashboard/api-types.ts). */
type Routes = { [P in ApiPath]: (query: URLSearchParams) => Promise<ApiAnswers[P]> };

export interface Dashboard {
  url: string;
  server: Server;
  store: EventsStore;
  /** The dashboard's PostgreSQL pool: read-only sessions. */
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function startDashboard(
  config: Config,
  opts: { port?: number; host?: string; log?: Logger } = {},
): Promise<Dashboard> {
  const log = opts.log ?? createLogger('dashboard', config.LOG_LEVEL);
  const assets = await buildAssets();
  const cassandra: cassandraDriver.Client = createCassandra(config);
  const pool: pg.Pool = createPgPool(config, 8, { readOnly: true });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL client failed'));
  const kafka = createKafka(config, 'logpipe-dashboard');
  const store = new EventsStore(cassandra, config.CASSANDRA_KEYSPACE);
  const monitoring = new Monitoring(config, kafka, cassandra, pool, log);
  const analytics = new Analytics(pool, warehouseSchema(config));

  const routes: Routes = {
    '/healthz': async (q) => {
      noParams(q);
      return { ok: true as const };
    },
    '/api/health': async (q) => {
      noParams(q);
      const services = await monitoring.health();
      return { checkedAt: new Date().toISOString(), services };
    },
    '/api/overview': async (q) => {
      const range = rangeParams(q);
      const { total } = await store.counts(range);
      return { ...rangeOut(range), ...overview(total) };
    },
    '/api/timeline': async (q) => {
      const range = rangeParams(q);
      return { ...rangeOut(range), ...timeline(await store.counts(range), range, EVENT_TYPES) };
    },
    '/api/errors': async (q) => {
      const range = rangeParams(q);
      const { total } = await store.counts(range);
      const byCode = errorsByCode(total);
      return { ...rangeOut(range), errors: total.get('t:error') ?? 0, byCode };
    },
    '/api/geo': async (q) => {
      const range = rangeParams(q);
      const { total } = await store.counts(range);
      return { ...rangeOut(range), ...geo(total) };
    },
    '/api/events': async (q) => {
      const f = eventFilterParams(q);
      const { events, scanned } = await store.recent(f);
      return { ...rangeOut(f), count: events.length, scanned, events };
    },
    '/api/ingestion': async (q) => {
      noParams(q);
      return monitoring.ingestion();
    },
    '/api/lag': async (q) => {
      noParams(q);
      return monitoring.lag();
    },
    '/api/dead-letters': async (q) => {
      noParams(q);
      return monitoring.deadLetters();
    },
    '/api/batch/runs': async (q) => {
      const { limit } = limitParams(q, 50, 10);
      return { runs: await monitoring.batchRuns(limit), temporalUi: config.TEMPORAL_UI_URL };
    },
    '/api/batch/schedule': async (q) => {
      noParams(q);
      return monitoring.schedule();
    },
    '/api/reconcile': async (q) => monitoring.reconciliation(limitParams(q, 500, 48).limit),
    '/api/analytics/revenue': async (q) => analytics.revenue(rangeParams(q, '30d')),
    '/api/analytics/orders': async (q) => analytics.ordersByStatus(rangeParams(q, '30d')),
    '/api/analytics/funnel': async (q) => analytics.funnel(rangeParams(q, '30d')),
    '/api/analytics/products': async (q) => {
      const r = rangeLimitParams(q, '30d', 100, 10);
      return analytics.products(r, r.limit);
    },
    '/api/analytics/users': async (q) => analytics.usersByCity(limitParams(q, 500, 50).limit),
  };

  // Identical requests within DASHBOARD_RESPONSE_CACHE_MS share one answer: twenty auto-refreshing
  // tabs cost one query.
  const RESPONSE_CACHE_MS = config.DASHBOARD_RESPONSE_CACHE_MS;
  // An answer up to ten times that old is still served while one refresh runs.
  const cache = new SwrCache<string>(RESPONSE_CACHE_MS, RESPONSE_CACHE_MS * 10);
  const answer = (key: string, handler: Handler, query: URLSearchParams): Promise<string> => {
    const compute = () => handler(query).then((v) => JSON.stringify(v));
    return RESPONSE_CACHE_MS === 0 ? compute() : cache.get(key, compute);
  };

  const live = liveTail(store, log);

  const hosts = allowedHosts(opts.host ?? config.DASHBOARD_HOST, config.DASHBOARD_ALLOWED_HOSTS);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    try {
      if (!hostAllowed(req.headers.host, hosts)) {
        return send(
          res,
          421,
          'application/json',
          JSON.stringify({
            error: `this dashboard does not answer to the host ${JSON.stringify(req.headers.host ?? '')}; add it to DASHBOARD_ALLOWED_HOSTS`,
          }),
        );
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, 'application/json', JSON.stringify({ error: 'read-only: only GET and HEAD' }), {
          allow: 'GET, HEAD',
        });
      }
      const asset = assets.files.get(url.pathname === '/' ? '/index.html' : url.pathname);
      if (asset) return send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
      if (url.pathname === '/api/events/stream') return live.subscribe(req, res, url.searchParams);
      const handler: Handler | undefined = routes[url.pathname as ApiPath];
      if (!handler)
        return send(
          res,
          404,
          'application/json',
          JSON.stringify({ error: `no such endpoint: ${url.pathname}` }),
        );
      const body = await answer(url.pathname + url.search, handler, url.searchParams);
      send(res, 200, 'application/json', body);
    } catch (err) {
      if (err instanceof BadRequest)
        return send(res, 400, 'application/json', JSON.stringify({ error: err.message }));
      const status = err instanceof MartsMissing ? 503 : 502;
      log.warn({ path: url.pathname, err: errorMessage(err) }, 'request failed');
      send(res, status, 'application/json', JSON.stringify({ error: errorMessage(err).split('\n')[0] }));
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? config.DASHBOARD_PORT, opts.host ?? config.DASHBOARD_HOST, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info(
    { url, keyspace: config.CASSANDRA_KEYSPACE, warehouse: warehouseSchema(config) },
    'dashboard listening',
  );
  return {
    url,
    server,
    store,
    pool,
    async close() {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      // A client stuck reconnecting to a store that went away must not hold the shutdown.
      const bounded = (p: Promise<unknown>) => withTimeout(p, 5000, 'close').catch(() => {});
      await Promise.all([bounded(monitoring.close()), bounded(cassandra.shutdown()), bounded(pool.end())]);
    },
  };
}

function rangeOut(r: { from: Date; to: Date }) {
  return { from: r.from.toISOString(), to: r.to.toISOString() };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

export type { Assets };
