// The event generator: coherent sessions interleaved in time. A session is a few cycles; a cycle
// is a search that may lead to a purchase (or a purchase straight away), and each purchase's order
// completes or fails, failed orders being retried. Errors happen inside sessions. The cycle
// probabilities below are solved so that over many events the type mix is the original's:
// search 0.25, purchase 0.25, order_complete 0.20, order_failed 0.20, error 0.10.

import { buildCatalog, type Catalog, productStateAt } from '../lib/catalog/catalog.ts';
import type { EventType } from '../lib/events/enums.ts';
import type { LogEvent } from '../lib/events/schema.ts';
import { Random } from '../lib/random.ts';

export const SERVICE = 'ecommerce-platform';
const QUERIES = ['laptop', 'shoes', 't-shirt', 'book', 'headphones', 'sofa', 'dress', 'camera'];
const ERROR_MESSAGES: Record<string, string> = {
  'ERR-1001': 'Payment processing failed',
  'ERR-1002': 'Inventory check timeout',
  'ERR-1003': 'User authentication error',
  'ERR-1004': 'Product not found',
  'ERR-1005': 'Cart update failed',
};
const FAILURE_REASONS = ['card_declined', 'insufficient_funds', 'fraud_suspected', 'gateway_timeout'];
const DEVICES = ['desktop', 'mobile', 'tablet'] as const;
const PAYMENTS = ['credit_card', 'paypal', 'bank_transfer'] as const;
const SHIPPING = ['standard', 'express', 'pickup'] as const;

// Cycle kinds: browse (search only), search and buy, buy directly. browse = direct keeps
// searches = purchases. An order attempt fails with probability 1/2 and a failed order is retried
// with probability 3/4: per purchase 0.8 completions and 0.8 failures on average.
const CYCLE = { browse: 0.2, search_and_buy: 0.6, direct_buy: 0.2 };
const ATTEMPT_FAILS = 0.5;
const RETRY_AFTER_FAILURE = 0.75;
// 2.88 other events per cycle on average; errors are a tenth of all events.
const ERROR_PER_CYCLE = 0.32;

export interface GeneratorOptions {
  seed: string | number;
  /** Timestamp of the first event. */
  start?: Date;
  /** Average events per second of simulated time (spacing of timestamps). */
  rate?: number;
  /** Concurrent sessions interleaved. */
  concurrency?: number;
  catalog?: Catalog;
  /** Use the wall clock for timestamps instead of simulated time (live producing). */
  realTime?: boolean;
}

type Step = (at: Date) => LogEvent;

/** One order of a session: what its purchase, completion and failures refer to. */
interface Order {
  productId: string;
  quantity: number;
  orderId: string;
  payment: (typeof PAYMENTS)[number];
}

interface Session {
  id: string;
  user: Catalog['users'][number];
  device: (typeof DEVICES)[number];
  started: number;
  steps: Step[];
}

const sessionDuration: Record<EventType, [number, number]> = {
  search: [30, 600],
  purchase: [300, 1800],
  order_complete: [300, 1800],
  order_failed: [60, 900],
  error: [10, 3600],
};

export class EventGenerator {
  private readonly rnd: Random;
  private readonly catalog: Catalog;
  private readonly sessions: Session[] = [];
  private clock: number;
  private readonly stepMs: number;
  private orderCounter = 0;
  private sessionCounter = 0;

  constructor(private readonly options: GeneratorOptions) {
    this.rnd = new Random(`events:${options.seed}`);
    this.catalog = options.catalog ?? buildCatalog('logpipe');
    this.clock = (options.start ?? new Date()).getTime();
    this.stepMs = 1000 / (options.rate ?? 100);
  }

  /** The next event, in time order across the interleaved sessions. */
  next(): LogEvent {
    const concurrency = this.options.concurrency ?? 50;
    while (this.sessions.length < concurrency) this.sessions.push(this.newSession());
    const i = this.rnd.int(0, this.sessions.length - 1);
    const session = this.sessions[i] as Session;
    const step = session.steps.shift() as Step;
    if (session.steps.length === 0) this.sessions.splice(i, 1);
    this.clock += this.rnd.float(0.5, 1.5) * this.stepMs;
    const at = this.options.realTime ? new Date() : new Date(Math.round(this.clock));
    return step(at);
  }

  *take(n: number): Generator<LogEvent> {
    for (let i = 0; i < n; i++) yield this.next();
  }

  private newSession(): Session {
    const rnd = this.rnd;
    const user = rnd.pick(this.catalog.users);
    this.sessionCounter++;
    const session: Session = {
      id: `sess_${rnd.uuid().slice(0, 8)}${String(this.sessionCounter).padStart(5, '0')}`,
      user,
      device: rnd.pick(DEVICES),
      started: this.clock,
      steps: [],
    };
    const cycles = rnd.int(1, 3);
    for (let c = 0; c < cycles; c++) {
      const kind = rnd.weighted(CYCLE);
      const product = rnd.pick(this.catalog.products);
      if (kind !== 'direct_buy') session.steps.push((at) => this.search(session, at, product.product_id));
      if (kind !== 'browse') {
        const order: Order = {
          productId: product.product_id,
          quantity: rnd.int(1, 3),
          orderId: `order_${rnd.uuid().slice(0, 6)}${String(++this.orderCounter).padStart(6, '0')}`,
          payment: rnd.pick(PAYMENTS),
        };
        session.steps.push((at) => this.purchase(session, at, order));
        for (;;) {
          if (rnd.chance(ATTEMPT_FAILS)) {
            session.steps.push((at) => this.orderFailed(session, at, order));
            if (!rnd.chance(RETRY_AFTER_FAILURE)) break;
          } else {
            session.steps.push((at) => this.orderComplete(session, at, order));
            break;
          }
        }
      }
      if (rnd.chance(ERROR_PER_CYCLE)) {
        const pos = rnd.int(0, session.steps.length);
        session.steps.splice(pos, 0, (at) => this.error(session, at, product.product_id));
      }
    }
    return session;
  }

  private base(session: Session, at: Date, type: EventType, productId: string) {
    const [lo, hi] = sessionDuration[type];
    return {
      event_id: this.rnd.uuid(),
      schema_version: 1,
      timestamp: at.toISOString(),
      level: type === 'error' || type === 'order_failed' ? ('ERROR' as const) : ('INFO' as const),
      service: SERVICE,
      user_id: session.user.user_id,
      session_id: session.id,
      product_id: productId,
      session_duration: this.rnd.int(lo, hi),
      device_type: session.device,
      geo_location: { country: session.user.country, city: session.user.city },
    };
  }

  private price(productId: string, at: Date): number {
    const product = this.catalog.products[Number(productId.slice(5)) - 1];
    return product ? productStateAt(product, at).price : 10;
  }

  private search(s: Session, at: Date, productId: string): LogEvent {
    const filters = this.rnd.pick<Record<string, string>>([
      {},
      { category: this.rnd.pick(['Electronics', 'Fashion', 'Books', 'Sports']) },
      { price_range: this.rnd.pick(['0-50', '50-200', '200+']) },
      { brand: this.rnd.pick(['Sony', 'Nike', 'Zara', 'Apple']) },
    ]);
    return {
      ...this.base(s, at, 'search', productId),
      event_type: 'search',
      details: {
        query: this.rnd.pick(QUERIES),
        results_count: this.rnd.int(0, 50),
        filters,
        searched_at: at.toISOString(),
      },
    };
  }

  private purchase(s: Session, at: Date, { productId, quantity, orderId, payment }: Order): LogEvent {
    const city = s.user.city;
    return {
      ...this.base(s, at, 'purchase', productId),
      event_type: 'purchase',
      details: {
        amount: Math.round(this.price(productId, at) * quantity * 100) / 100,
        payment_method: payment,
        items: [{ product_id: productId, quantity }],
        shipping_address: `${this.rnd.int(1, 250)} Main Street, ${city}, ${s.user.country}`,
        order_id: orderId,
      },
    };
  }

  private orderComplete(s: Session, at: Date, { productId, quantity, orderId, payment }: Order): LogEvent {
    const delivery = new Date(at.getTime() + this.rnd.int(1, 7) * 86_400_000);
    return {
      ...this.base(s, at, 'order_complete', productId),
      event_type: 'order_complete',
      details: {
        order_id: orderId,
        amount: Math.round(this.price(productId, at) * quantity * 100) / 100,
        items: [{ product_id: productId, quantity }],
        shipping_method: this.rnd.pick(SHIPPING),
        delivery_estimate: delivery.toISOString().slice(0, 10),
        completed_at: at.toISOString(),
        payment_method: payment,
      },
    };
  }

  private orderFailed(s: Session, at: Date, { productId, quantity, orderId, payment }: Order): LogEvent {
    return {
      ...this.base(s, at, 'order_failed', productId),
      event_type: 'order_failed',
      details: {
        order_id: orderId,
        attempted_amount: Math.round(this.price(productId, at) * quantity * 100) / 100,
        failed_at: at.toISOString(),
        payment_method: payment,
        reason: this.rnd.pick(FAILURE_REASONS),
      },
    };
  }

  private error(s: Session, at: Date, productId: string): LogEvent {
    const code = this.rnd.pick(Object.keys(ERROR_MESSAGES));
    return {
      ...this.base(s, at, 'error', productId),
      event_type: 'error',
      error_code: code,
      message: ERROR_MESSAGES[code] as string,
      details: { error_at: at.toISOString() },
    };
  }
}

/** An event in the original system's format: no event_id, no schema_version, no payment_method on orders. */
export function toOriginalFormat(e: LogEvent): Record<string, unknown> {
  const { event_id: _id, schema_version: _v, ...rest } = e;
  if (rest.event_type === 'order_complete' || rest.event_type === 'order_failed') {
    const { payment_method: _p, reason: _r, ...details } = rest.details as Record<string, unknown>;
    return { ...rest, details };
  }
  return rest;
}
