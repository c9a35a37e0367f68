-- An order completes at most once: one order_complete event per order_id. Real logs break this
-- (a client retrying its completion call sends a second event with a new id), so it is a
-- data-quality warning, counted in the run's result, the dashboard and the alert; it never stops
-- the warehouse. Severity error is kept for what the pipeline itself guarantees (keys, relations).
{{ config(severity='warn') }}

select order_id, count(distinct event_id) as completions
from {{ ref('fact_orders') }}
where status = 'completed'
group by order_id
having count(distinct event_id) > 1
