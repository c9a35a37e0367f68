{{ config(
    materialized='incremental',
    unique_key=['entity', 'entity_id'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['entity', 'entity_id'], 'unique': True}, {'columns': ['_loaded_at']}],
) }}

-- Every user id and product id that events mention (products also from order items), with when
-- it was last seen, so that the dimensions can add members for ids missing from the catalog
-- without scanning every event on every run.
with mentions as (

    {% for model in ['stg_search_events', 'stg_purchase_events', 'stg_order_complete_events', 'stg_order_failed_events', 'stg_error_events'] %}
    select 'user' as entity, user_id as entity_id, _loaded_at
    from {{ ref(model) }} {{ loaded_since_last_run() }}
    union all
    select 'product', product_id, _loaded_at
    from {{ ref(model) }} {{ loaded_since_last_run() }}
    union all
    {% endfor %}
    select 'product', item ->> 'product_id', events._loaded_at
    from {{ ref('stg_purchase_events') }} as events, jsonb_array_elements(events.items) as item
    {{ loaded_since_last_run('events._loaded_at') }}
    union all
    select 'product', item ->> 'product_id', events._loaded_at
    from {{ ref('stg_order_complete_events') }} as events, jsonb_array_elements(events.items) as item
    {{ loaded_since_last_run('events._loaded_at') }}

),

final as (

    select entity, entity_id, max(_loaded_at) as _loaded_at
    from mentions
    where entity_id is not null
    group by entity, entity_id

)

select * from final
