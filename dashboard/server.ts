// The dashboard's HTTP server: the single-page app (bundled at startup with esbuild, nothing from a
// CDN), a read-only JSON API behind every panel, and a server-sent-events stream of new events.
// Bound to DASHBOARD_HOST (127.0.0.1 by default). Read-only: the server answers only GET and HEAD,
// its PostgreSQL sessions are read-only (PostgreSQL refuses writes on them), it only SELECTs from
// Cassandra, and it only reads Kafka (the dead-letter topic with its own group, committing nothing).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
import { type Assets, buildAssets } from './assets.ts';
import {
  type EventRow,
  EventsStore,
  errorsByCode,
  geo,
  matches,
  overview,
  timeline,
} from './events-store.ts';
import { allowedHosts, hostAllowed } from './host-check.ts';
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

  const routes: Record<string, Handler> = {
    '/healthz': async (q) => {
      noParams(q);
      return { ok: true };
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
      const handler = routes[url.pathname];
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

/**
 * Server-sent events of the newest rows: one poll of Cassandra per second for every subscriber,
 * each subscriber getting the rows matching its own filters. Rows are re-read over a 30 s window so
 * events written a little late are not missed, and sent once each.
 */
function liveTail(store: EventsStore, log: Logger) {
  const WINDOW_MS = 30_000;
  const clients = new Set<{ res: ServerResponse; filter: ReturnType<typeof eventFilterParams> }>();
  const seen = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let primed = false;

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const now = Date.now();
      const rows = await store.since(new Date(now - WINDOW_MS), new Date(now));
      const fresh: EventRow[] = [];
      for (const r of rows) {
        if (seen.has(r.event_id)) continue;
        seen.set(r.event_id, now);
        fresh.push(r);
      }
      for (const [id, at] of seen) if (at < now - 2 * WINDOW_MS) seen.delete(id);
      // The first poll only learns what is already there: the page loaded those with /api/events.
      if (!primed) {
        primed = true;
        return;
      }
      if (!fresh.length) return;
      fresh.sort((a, b) => b.timestamp.localeCompare(a.timestamp));
      for (const c of clients) {
        const mine = fresh.filter((e) => matches(e, c.filter)).slice(0, c.filter.limit);
        if (mine.length) c.res.write(`event: events\ndata: ${JSON.stringify(mine)}\n\n`);
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'live tail poll failed');
      for (const c of clients) c.res.write(`event: problem\ndata: ${JSON.stringify(errorMessage(err))}\n\n`);
    } finally {
      polling = false;
    }
  };

  return {
    subscribe(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
      const filter = eventFilterParams(query);
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      const client = { res, filter };
      clients.add(client);
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(ping);
        clients.delete(client);
        if (!clients.size && timer) {
          clearInterval(timer);
          timer = undefined;
          primed = false;
          seen.clear();
        }
      });
      if (!timer) {
        timer = setInterval(poll, 1000);
        void poll();
      }
    },
    close() {
      if (timer) clearInterval(timer);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}

export type { Assets };
