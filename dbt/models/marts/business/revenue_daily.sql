{{ config(
    materialized='incremental',
    unique_key=['order_date', 'country', 'category'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['order_date', 'country', 'category'], 'unique': True}],
) }}

-- Orders and revenue per day, country and product category. Incremental and additive: the order
-- lines loaded since this model's newest line are added to the totals of their groups, so a run
-- costs what its new lines cost, not what their days hold. This holds because an order line never
-- changes once in fact_orders (a raw table takes an event id once, and fact_events keeps the first
-- owner of an id). The bound is this model's own newest _loaded_at, without the lookback window:
-- every line at or below it is counted already, so an overlap would count lines twice.
{%- if is_incremental() %}
{%- set since = newest_loaded_at(this) %}
{%- endif %}

with

lines as (

    select
        orders.event_id,
        orders.order_id,
        orders.status,
        orders.order_date,
        coalesce(orders.country, 'Unknown') as country,
        coalesce(products.category, 'Unknown') as category,
        orders.quantity,
        orders.amount,
        orders._loaded_at
    from {{ ref('fact_orders') }} as orders
    left join {{ ref('dim_products') }} as products
        on products.product_version_key = orders.product_version_key
    {% if is_incremental() %}
    where orders._loaded_at > {{ since }}
    {% endif %}

),

counted as (

    -- An order is counted once per group (count distinct): in an incremental run, a new line of
    -- an order that a line loaded earlier already counted in the same group (a second completion
    -- of one order, a retried failure) adds its amount but not the order. A purchase is counted by
    -- its event, whose lines all come in one load.
    select
        lines.*,
        {% if is_incremental() %}
        lines.order_id is not null and not exists (
            select 1
            from {{ ref('fact_orders') }} as earlier
            left join {{ ref('dim_products') }} as earlier_products
                on earlier_products.product_version_key = earlier.product_version_key
            where earlier.order_id = lines.order_id
                and earlier.status = lines.status
                and earlier._loaded_at <= {{ since }}
                and earlier.order_date = lines.order_date
                and coalesce(earlier.country, 'Unknown') = lines.country
                and coalesce(earlier_products.category, 'Unknown') = lines.category
        ) as counts_order
        {% else %}
        true as counts_order
        {% endif %}
    from lines

),

added as (

    select
        order_date,
        country,
        category,
        count(distinct order_id) filter (where status = 'completed' and counts_order) as orders_completed,
        count(distinct order_id) filter (where status = 'failed' and counts_order) as orders_failed,
        -- A purchase is one event; the original system's purchases carry no order id.
        count(distinct event_id) filter (where status = 'purchase') as purchases,
        coalesce(sum(quantity) filter (where status = 'completed'), 0) as units_sold,
        coalesce(sum(amount) filter (where status = 'completed'), 0) as revenue,
        coalesce(sum(amount) filter (where status = 'failed'), 0) as failed_amount,
        max(_loaded_at) as _loaded_at
    from counted
    group by 1, 2, 3

),

totals as (

    {% if is_incremental() %}
    {{ add_to_kept(
        ['order_date', 'country', 'category'],
        ['orders_completed', 'orders_failed', 'purchases', 'units_sold', 'revenue', 'failed_amount'],
    ) }}
    {% else %}
    select * from added
    {% endif %}

),

final as (

    select
        order_date,
        country,
        category,
        orders_completed,
        orders_failed,
        purchases,
        units_sold,
        revenue,
        failed_amount,
        round(revenue / nullif(orders_completed, 0), 2) as average_order_value,
        _loaded_at
    from totals

)

select * from final
