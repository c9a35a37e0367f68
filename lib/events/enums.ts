// The closed sets of values in the event contract: the one owner of them. The zod schema
// (schema.ts) validates against them, the dashboard's page offers them as filters, and dbt's
// accepted_values tests read them (lib/dbt.ts passes them to dbt as LOGPIPE_CONTRACT, read by
// dbt/macros/contract_values.sql), so a value the contract accepts cannot fail the warehouse's tests.
// No imports: the browser bundle takes this file as it is.

export const EVENT_TYPES = ['search', 'purchase', 'order_complete', 'order_failed', 'error'] as const;
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet'] as const;
export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const PAYMENT_METHODS = ['credit_card', 'paypal', 'bank_transfer'] as const;
export const SHIPPING_METHODS = ['standard', 'express', 'pickup'] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Every closed set by the name dbt's `contract_values(name)` uses. */
export const CONTRACT_VALUES = {
  event_types: EVENT_TYPES,
  device_types: DEVICE_TYPES,
  levels: LEVELS,
  payment_methods: PAYMENT_METHODS,
  shipping_methods: SHIPPING_METHODS,
} as const;
