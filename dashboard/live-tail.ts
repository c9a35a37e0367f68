// The live tail behind /api/events/stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { EventRow } from './api-types.ts';
import { type EventsStore, matches } from './events-store.ts';
import { eventFilterParams } from './params.ts';

/**
 * Server-sent events of the newest rows: one poll of Cassandra per second for every subscriber,
 * each subscriber getting the rows matching its own filters. Rows are re-read over a 30 s window so
 * events written a little late are not missed, and sent once each.
 */
export function liveTail(store: EventsStore, log: Logger) {
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
