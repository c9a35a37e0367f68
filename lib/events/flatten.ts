// The flattened form of an event: the original system's Cassandra columns plus event_id.
import { errorAtOf, type LogEvent } from './schema.ts';

export interface FlatEvent {
  event_id: string;
  timestamp: Date;
  day: string;
  hour: number;
  user_id: string;
  session_id: string;
  product_id: string;
  event_type: string;
  level: string;
  service: string;
  session_duration: number;
  device_type: string;
  geo_country: string;
  geo_city: string;
  details_amount: number | null;
  details_payment_method: string | null;
  details_items: string | null;
  details_order_id: string | null;
  details_query: string | null;
  details_results_count: number | null;
  details_shipping_method: string | null;
  details_delivery_estimate: string | null;
  details_completed_at: string | null;
  details_shipping_address: string | null;
  error_code: string | null;
  message: string | null;
  error_at: string | null;
  attempted_amount: number | null;
  failed_at: string | null;
}

/** The UTC day (YYYY-MM-DD) and hour of an instant: the partition of the hour-bucketed tables. */
// Every event of a chunk falls on one or two days: the day's text is kept rather than formatted
// from toISOString() per event.
let lastDay = { epochDay: Number.NaN, day: '' };
/** The UTC day (YYYY-MM-DD) and hour of an instant: the partition of the hour-bucketed tables. */
export function dayHour(at: Date): { day: string; hour: number } {
  const ms = at.getTime();
  const epochDay = Math.floor(ms / 86_400_000);
  if (epochDay !== lastDay.epochDay) lastDay = { epochDay, day: at.toISOString().slice(0, 10) };
  return { day: lastDay.day, hour: at.getUTCHours() };
}

/** The flattened row, in one pass: the common fields, then the ones of the event's type. */
export function flattenEvent(e: LogEvent): FlatEvent {
  const timestamp = new Date(e.timestamp);
  const { day, hour } = dayHour(timestamp);
  // Built whole and then filled in (no spreads): one object per event, always of the same shape.
  const f: FlatEvent = {
    event_id: e.event_id,
    timestamp,
    day,
    hour,
    user_id: e.user_id,
    session_id: e.session_id,
    product_id: e.product_id,
    event_type: e.event_type,
    level: e.level,
    service: e.service,
    session_duration: e.session_duration,
    device_type: e.device_type,
    geo_country: e.geo_location.country,
    geo_city: e.geo_location.city,
    details_amount: null,
    details_payment_method: null,
    details_items: null,
    details_order_id: null,
    details_query: null,
    details_results_count: null,
    details_shipping_method: null,
    details_delivery_estimate: null,
    details_completed_at: null,
    details_shipping_address: null,
    error_code: null,
    message: null,
    error_at: null,
    attempted_amount: null,
    failed_at: null,
  };
  switch (e.event_type) {
    case 'search':
      f.details_query = e.details.query;
      f.details_results_count = e.details.results_count;
      break;
    case 'purchase':
      f.details_amount = e.details.amount;
      f.details_payment_method = e.details.payment_method;
      f.details_items = JSON.stringify(e.details.items);
      f.details_order_id = e.details.order_id ?? null;
      f.details_shipping_address = e.details.shipping_address;
      break;
    case 'order_complete':
      f.details_amount = e.details.amount;
      f.details_payment_method = e.details.payment_method ?? null;
      f.details_items = JSON.stringify(e.details.items);
      f.details_order_id = e.details.order_id;
      f.details_shipping_method = e.details.shipping_method;
      f.details_delivery_estimate = e.details.delivery_estimate;
      f.details_completed_at = e.details.completed_at;
      break;
    case 'order_failed':
      f.details_payment_method = e.details.payment_method ?? null;
      f.details_order_id = e.details.order_id;
      f.attempted_amount = e.details.attempted_amount;
      f.failed_at = e.details.failed_at;
      break;
    case 'error':
      f.error_code = e.error_code;
      f.message = e.message;
      f.error_at = errorAtOf(e);
      break;
  }
  return f;
}
