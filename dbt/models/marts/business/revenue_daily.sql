{{ config(
    materialized='incremental',
    unique_key=['order_date', 'country', 'category'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['order_date', 'country', 'category'], 'unique': True}],
) }}

-- Orders and revenue per day, country and product category. Incremental: the days that got new
-- order lines are recomputed whole.
with

lines as (

    select
        orders.*,
        coalesce(products.category, 'Unknown') as category
    from {{ ref('fact_orders') }} as orders
    left join {{ ref('dim_products') }} as products using (product_version_key)
    {{ only_touched(ref('fact_orders'), 'order_date', alias='orders') }}

),

final as (

    select
        order_date,
        coalesce(country, 'Unknown') as country,
        category,
        count(distinct order_id) filter (where status = 'completed') as orders_completed,
        count(distinct order_id) filter (where status = 'failed') as orders_failed,
        -- A purchase is one event; the original system's purchases carry no order id.
        count(distinct event_id) filter (where status = 'purchase') as purchases,
        coalesce(sum(quantity) filter (where status = 'completed'), 0) as units_sold,
        coalesce(sum(amount) filter (where status = 'completed'), 0) as revenue,
        coalesce(sum(amount) filter (where status = 'failed'), 0) as failed_amount,
        round(
            coalesce(sum(amount) filter (where status = 'completed'), 0)
            / nullif(count(distinct order_id) filter (where status = 'completed'), 0),
            2
        ) as average_order_value,
        max(_loaded_at) as _loaded_at
    from lines
    group by 1, 2, 3

)

select * from final
