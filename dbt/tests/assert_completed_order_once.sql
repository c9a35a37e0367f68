-- An order completes at most once: one order_complete event per order_id.
select order_id, count(distinct event_id) as completions
from {{ ref('fact_orders') }}
where status = 'completed'
group by order_id
having count(distinct event_id) > 1
