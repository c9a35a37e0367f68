-- Revenue, order amounts and failed amounts are never negative.
select 'revenue_daily' as model, order_date::text as at, revenue as value
from {{ ref('revenue_daily') }}
where revenue < 0 or failed_amount < 0

union all

select 'fact_orders', order_line_key, amount
from {{ ref('fact_orders') }}
where amount < 0
