-- An order completes at most once: one order_complete event per order_id. Real logs break this
-- (a client retrying its completion call sends a second event with a new id), so it is a
-- data-quality warning, counted in the run's result, the dashboard and the alert; it never stops
-- the warehouse. Severity error is kept for what the pipeline itself guarantees (keys, relations).
-- In a batch build only the orders that got rows since the last tested build are checked.
{{ config(severity='warn') }}

{%- set since = logpipe_tests_since() %}

select order_id, count(distinct event_id) as completions
from {{ ref('fact_orders') }}
where status = 'completed'
{% if since %}
  -- An array, so that the orders are looked up in the order_id index (see macros/only_touched.sql).
  and order_id = any(array(
    select order_id from {{ ref('fact_orders') }}
    where _loaded_at > {{ since }} and status = 'completed'
  ))
{% endif %}
group by order_id
having count(distinct event_id) > 1
