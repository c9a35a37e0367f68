{{ config(
    materialized='incremental',
    unique_key=['event_hour', 'error_code'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['event_hour', 'error_code'], 'unique': True}],
) }}

-- Errors per hour and error code, against all events of that hour. Incremental: the hours that got
-- new events are recomputed whole.
with

events as (

    select * from {{ ref('fact_events') }}
    {{ only_touched(ref('fact_events'), 'event_hour') }}

),

per_hour as (

    select event_hour, count(*) as events, max(_loaded_at) as _loaded_at
    from events
    group by event_hour

),

errors as (

    select event_hour, error_code, count(*) as errors
    from events
    where event_type = 'error'
    group by event_hour, error_code

),

final as (

    select
        errors.event_hour,
        errors.error_code,
        errors.errors,
        per_hour.events,
        round(errors.errors::numeric / per_hour.events, 4) as error_rate,
        per_hour._loaded_at
    from errors
    join per_hour using (event_hour)

)

select * from final
