{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['event_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['session_id']},
        {'columns': ['event_hour']},
    ],
) }}

-- One row per event of any type. Incremental: only rows loaded since the last run are read.
with search as (

    select
        event_id, event_type, level, service, event_at, user_id, product_id, session_id,
        device_type, country, city, session_duration_s,
        null::numeric as amount, null::text as order_id, null::text as error_code, _loaded_at
    from {{ ref('stg_search_events') }}
    {{ loaded_since_last_run() }}

),

purchase as (

    select
        event_id, event_type, level, service, event_at, user_id, product_id, session_id,
        device_type, country, city, session_duration_s,
        amount, order_id, null::text as error_code, _loaded_at
    from {{ ref('stg_purchase_events') }}
    {{ loaded_since_last_run() }}

),

order_complete as (

    select
        event_id, event_type, level, service, event_at, user_id, product_id, session_id,
        device_type, country, city, session_duration_s,
        amount, order_id, null::text as error_code, _loaded_at
    from {{ ref('stg_order_complete_events') }}
    {{ loaded_since_last_run() }}

),

order_failed as (

    select
        event_id, event_type, level, service, event_at, user_id, product_id, session_id,
        device_type, country, city, session_duration_s,
        attempted_amount as amount, order_id, null::text as error_code, _loaded_at
    from {{ ref('stg_order_failed_events') }}
    {{ loaded_since_last_run() }}

),

error as (

    select
        event_id, event_type, level, service, event_at, user_id, product_id, session_id,
        device_type, country, city, session_duration_s,
        null::numeric as amount, null::text as order_id, error_code, _loaded_at
    from {{ ref('stg_error_events') }}
    {{ loaded_since_last_run() }}

),

unioned as (

    select * from search
    union all select * from purchase
    union all select * from order_complete
    union all select * from order_failed
    union all select * from error

),

final as (

    select
        event_id,
        event_type,
        level,
        service,
        event_at,
        (event_at at time zone 'UTC')::date as event_date,
        date_trunc('hour', event_at at time zone 'UTC') at time zone 'UTC' as event_hour,
        user_id,
        product_id,
        session_id,
        device_type,
        country,
        city,
        session_duration_s,
        amount,
        order_id,
        error_code,
        _loaded_at
    from unioned

)

select * from final
