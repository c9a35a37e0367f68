{{ config(
    materialized='incremental',
    unique_key='order_line_key',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['order_line_key'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['order_date']},
        {'columns': ['order_id']},
    ],
) }}

-- One row per order line of purchase, order_complete and order_failed events, with the product's
-- price as it was at the event's time (the dim_products version valid then).
with purchase as (

    select
        event_id, order_id, 'purchase' as status, event_at, user_id, session_id, product_id,
        device_type, country, city, payment_method, null::text as shipping_method,
        null::text as failure_reason, amount as order_amount, items, _loaded_at
    from {{ ref('stg_purchase_events') }}
    {{ loaded_since_last_run() }}

),

completed as (

    select
        event_id, order_id, 'completed' as status, event_at, user_id, session_id, product_id,
        device_type, country, city, payment_method, shipping_method,
        null::text as failure_reason, amount as order_amount, items, _loaded_at
    from {{ ref('stg_order_complete_events') }}
    {{ loaded_since_last_run() }}

),

failed as (

    -- A failed attempt lists no items: one line for the event's product, quantity unknown.
    select
        event_id, order_id, 'failed' as status, event_at, user_id, session_id, product_id,
        device_type, country, city, payment_method, null::text as shipping_method,
        failure_reason, attempted_amount as order_amount, null::jsonb as items, _loaded_at
    from {{ ref('stg_order_failed_events') }}
    {{ loaded_since_last_run() }}

),

orders as (

    select * from purchase
    union all select * from completed
    union all select * from failed

),

owned as (

    -- An event id reused by events of two types belongs to the type fact_events kept for it: the
    -- other event's lines stay out, so order_line_key stays unique.
    select orders.*
    from orders
    inner join {{ ref('fact_events') }} as owner
        on owner.event_id = orders.event_id
        and owner.event_type = case orders.status
            when 'purchase' then 'purchase'
            when 'completed' then 'order_complete'
            else 'order_failed'
        end

),

lines as (

    select
        orders.*,
        line.line_number,
        line.item ->> 'product_id' as line_product_id,
        (line.item ->> 'quantity')::int as quantity,
        count(*) over (partition by orders.event_id) as order_lines,
        sum((line.item ->> 'quantity')::int) over (partition by orders.event_id) as order_quantity
    from owned as orders
    -- An order that lists no items still counts: one line for the event's product.
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(orders.items) = 'array' and jsonb_array_length(orders.items) > 0 then orders.items
            else jsonb_build_array(jsonb_build_object('product_id', orders.product_id))
        end
    ) with ordinality as line(item, line_number)

),

products as (

    select * from {{ ref('dim_products') }}

),

final as (

    select
        lines.event_id || '#' || lines.line_number as order_line_key,
        lines.event_id,
        lines.order_id,
        lines.status,
        lines.event_at as order_at,
        (lines.event_at at time zone 'UTC')::date as order_date,
        lines.user_id,
        lines.session_id,
        coalesce(lines.line_product_id, lines.product_id) as product_id,
        products.product_version_key,
        lines.quantity,
        products.price as unit_price_at_order,
        -- The event's amount, shared among its lines by quantity (the whole amount for one line).
        case
            when lines.order_lines = 1 then lines.order_amount
            when lines.order_quantity > 0 then round(lines.order_amount * lines.quantity / lines.order_quantity, 2)
        end as amount,
        lines.payment_method,
        lines.shipping_method,
        lines.failure_reason,
        lines.device_type,
        lines.country,
        lines.city,
        lines._loaded_at
    from lines
    left join products
        on products.product_id = coalesce(lines.line_product_id, lines.product_id)
        and lines.event_at >= products.valid_from
        and (products.valid_to is null or lines.event_at < products.valid_to)

)

select * from final
