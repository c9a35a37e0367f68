// The event contract: one zod schema shared by the producer, the streaming worker, the loaders and
// the tests. A discriminated union on event_type with the original system's five types. Unknown
// extra fields are accepted (loose objects) and kept in the raw copy.
import { z } from 'zod';

export const SCHEMA_VERSION = 1;
export const EVENT_TYPES = ['search', 'purchase', 'order_complete', 'order_failed', 'error'] as const;
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet'] as const;
export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const PAYMENT_METHODS = ['credit_card', 'paypal', 'bank_transfer'] as const;
export const SHIPPING_METHODS = ['standard', 'express', 'pickup'] as const;

const text = z.string().trim().min(1, 'must be non-empty text');
const isoTimestamp = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s) &&
      !Number.isNaN(Date.parse(s)),
    {
      message: 'must be an ISO-8601 timestamp with a time zone, e.g. 2026-01-02T03:04:05Z',
    },
  );
const isoDateOrTimestamp = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO-8601 date or timestamp',
  });
const money = z.number().finite().nonnegative('must not be negative');

export const itemSchema = z.looseObject({
  product_id: text,
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1'),
});

const common = {
  event_id: text.optional(),
  schema_version: z.number().int().positive().optional(),
  timestamp: isoTimestamp,
  level: z.enum(LEVELS),
  service: text,
  user_id: text,
  session_id: text,
  product_id: text,
  session_duration: z.number().finite().nonnegative(),
  device_type: z.enum(DEVICE_TYPES),
  geo_location: z.looseObject({ country: text, city: text }),
};

export const searchEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('search'),
  details: z.looseObject({
    query: z.string(),
    results_count: z.number().int().nonnegative(),
    filters: z.record(z.string(), z.unknown()),
    searched_at: isoTimestamp,
  }),
});

export const purchaseEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('purchase'),
  details: z.looseObject({
    amount: money,
    payment_method: z.enum(PAYMENT_METHODS),
    items: z.array(itemSchema).min(1, 'must list at least one item'),
    shipping_address: text,
    order_id: text.optional(),
  }),
});

export const orderCompleteEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('order_complete'),
  details: z.looseObject({
    order_id: text,
    amount: money,
    items: z.array(itemSchema).min(1, 'must list at least one item'),
    shipping_method: z.enum(SHIPPING_METHODS),
    delivery_estimate: isoDateOrTimestamp,
    completed_at: isoTimestamp,
    // The original generator never set it on order events; logpipe's always does.
    payment_method: z.enum(PAYMENT_METHODS).optional(),
  }),
});

export const orderFailedEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('order_failed'),
  details: z.looseObject({
    order_id: text,
    attempted_amount: money,
    failed_at: isoTimestamp,
    payment_method: z.enum(PAYMENT_METHODS).optional(),
    reason: z.string().optional(),
  }),
});

// The original generator writes error_code, message and error_at at the top level beside an empty
// `details: {}`; logpipe's generator puts error_at inside details. Both are accepted, one is needed.
export const errorEventSchema = z
  .looseObject({
    ...common,
    event_type: z.literal('error'),
    error_code: text,
    message: text,
    error_at: isoTimestamp.optional(),
    details: z.looseObject({ error_at: isoTimestamp.optional() }),
  })
  .refine((e) => e.details.error_at !== undefined || e.error_at !== undefined, {
    message: 'must be an ISO-8601 timestamp with a time zone (error_at, at the top level or in details)',
    path: ['error_at'],
  });

export const eventSchema = z.discriminatedUnion('event_type', [
  searchEventSchema,
  purchaseEventSchema,
  orderCompleteEventSchema,
  orderFailedEventSchema,
  errorEventSchema,
]);

/** An event as it arrives: event_id and schema_version may be missing. */
export type IncomingEvent = z.infer<typeof eventSchema>;
/** An accepted event: it always carries its id and schema version. */
export type LogEvent = IncomingEvent & { event_id: string; schema_version: number };
export type EventType = (typeof EVENT_TYPES)[number];
export type SearchEvent = z.infer<typeof searchEventSchema>;
export type PurchaseEvent = z.infer<typeof purchaseEventSchema>;
export type OrderCompleteEvent = z.infer<typeof orderCompleteEventSchema>;
export type OrderFailedEvent = z.infer<typeof orderFailedEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;

/** When an error happened, wherever the event put it (details.error_at wins when both are there). */
export function errorAtOf(e: ErrorEvent): string {
  return (e.details.error_at ?? e.error_at) as string;
}
